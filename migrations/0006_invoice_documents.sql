-- Rendered invoice documents (Factur-X PDFs). A sent invoice never changes: its PDF is rendered
-- once, kept here byte for byte (the archive must be restorable exactly, not re-rendered from
-- later templates) and served from here afterwards. Drafts are rendered on demand, never stored.
-- Not a read model: nothing rebuilds it from the events.

CREATE TABLE invoice_documents (
    business_id uuid NOT NULL,
    invoice_id uuid NOT NULL,
    version bigint NOT NULL,          -- the invoice's version when the document was rendered
    content bytea NOT NULL,
    sha256 text NOT NULL,             -- hex digest of content
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (business_id, invoice_id)
);
