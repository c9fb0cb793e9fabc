-- The stored PDFs of sent invoices (invoice_documents, migration 0006; asyncpg). Not a read
-- model: nothing rebuilds it from the events.

-- name: stored_pdf
SELECT content FROM invoice_documents WHERE business_id = $1 AND invoice_id = $2;

-- name: store_pdf
-- The first to store wins; every reader then answers the stored bytes.
INSERT INTO invoice_documents (business_id, invoice_id, version, content, sha256)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (business_id, invoice_id) DO NOTHING;
