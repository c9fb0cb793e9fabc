-- As issued, forever (issue 18): every document an invoice is issued with (its PDF and its
-- e-invoice XML, one row per kind: 'pdf', 'cii', later 'ubl'), byte for byte, with its SHA-256.
-- The event that issues the invoice records the same hashes in its data, so that the hash
-- chain covers them and `audit verify` proves the stored bytes are the ones issued
-- (docs/audit.md). A row is written before its event (rendering comes first), so the hash is
-- part of the key: a send that renders and then loses (a conflict) leaves a row no event names,
-- never served. Not a read model: nothing rebuilds it from the events.
CREATE TABLE issued_documents (
    business_id uuid NOT NULL,
    document_id uuid NOT NULL,        -- the invoice's id
    kind text NOT NULL,               -- 'pdf', 'cii', 'ubl' (adapters/pdf/issued.py KINDS)
    sha256 text NOT NULL,             -- lowercase hex digest of content
    content bytea NOT NULL,
    version bigint NOT NULL,          -- the invoice's version its issuing event has (or had)
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (business_id, document_id, kind, sha256)
);

-- The PDFs stored before (rendered on their first request, migration 0006) move here: their
-- events record no hash ("no recorded hash" for audit verify), and they are served as before.
-- invoice_documents is left in place, unused, until a later release drops it.
INSERT INTO issued_documents (business_id, document_id, kind, sha256, content, version, created_at)
SELECT business_id, invoice_id, 'pdf', sha256, content, version, created_at
FROM invoice_documents
ON CONFLICT DO NOTHING;
