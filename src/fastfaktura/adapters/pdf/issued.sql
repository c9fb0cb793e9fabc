-- An invoice's documents as issued (issued_documents, migration 0022; asyncpg). Not a read
-- model: nothing rebuilds it from the events.

-- name: store_document
-- One row per kind and digest: a second store of the same bytes is a no-op.
INSERT INTO issued_documents (business_id, document_id, kind, sha256, content, version)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT DO NOTHING;

-- name: document_with_digest
-- The bytes the issuing event names by their digest ($4).
SELECT content, sha256 FROM issued_documents
WHERE business_id = $1 AND document_id = $2 AND kind = $3 AND sha256 = $4;

-- name: first_document
-- An invoice issued before documents were recorded at issue: the first stored wins (two first
-- requests may both have rendered), every reader answers the same bytes.
SELECT content, sha256 FROM issued_documents
WHERE business_id = $1 AND document_id = $2 AND kind = $3
ORDER BY created_at, sha256 LIMIT 1;

-- name: issuing_event
-- The invoice's `sent` event (its first send; at most one per invoice), read from the store.
SELECT originator_version, state FROM invoicing_events
WHERE originator_id = $1 AND topic = $2;
