-- Credit notes' documents and sending (issue 13): their stored PDF and embedded XML, the
-- deliveries decided when one is sent, and the sandbox outbox naming the credit note.

-- A credit note never changes once issued: its Factur-X PDF is rendered once, kept here byte for
-- byte with the CII XML embedded in it, and served from here afterwards (like
-- invoice_documents). Not a read model: nothing rebuilds it from the events.
CREATE TABLE credit_note_documents (
    business_id uuid NOT NULL,
    credit_note_id uuid NOT NULL,
    version bigint NOT NULL,          -- the credit note's version when it was rendered
    content bytea NOT NULL,           -- the PDF
    sha256 text NOT NULL,             -- hex digest of content
    xml bytea NOT NULL,               -- the CII XML embedded in content (factur-x.xml)
    xml_sha256 text NOT NULL,         -- hex digest of xml (its ETag)
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (business_id, credit_note_id)
);

-- Every delivery decided for the credit note ({id, channel, to, status, error}), from its
-- `sent`, `delivered` and `delivery_failed` events. A credit note projected before it could be
-- sent had none.
ALTER TABLE rm_credit_notes ADD COLUMN deliveries jsonb NOT NULL DEFAULT '[]';
-- The delivery worker's to-do list: the few credit notes with a delivery still pending.
CREATE INDEX rm_credit_notes_pending_deliveries ON rm_credit_notes (version)
    WHERE deliveries @> '[{"status": "pending"}]';

-- A credit note's message names it (and, as invoice_id, the invoice it credits).
ALTER TABLE sandbox_messages ADD COLUMN credit_note_id uuid;
