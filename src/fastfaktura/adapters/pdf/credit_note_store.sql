-- The stored documents of credit notes (credit_note_documents, migration 0017; asyncpg). Not a
-- read model: nothing rebuilds it from the events.

-- name: stored_documents
SELECT content, sha256, xml, xml_sha256 FROM credit_note_documents
WHERE business_id = $1 AND credit_note_id = $2;

-- name: store_documents
-- The first to store wins; every reader then answers the stored bytes.
INSERT INTO credit_note_documents (business_id, credit_note_id, version, content, sha256, xml,
    xml_sha256)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (business_id, credit_note_id) DO NOTHING;
