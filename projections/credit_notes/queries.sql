-- Queries on rm_credit_notes (asyncpg). Every query filters by business_id ($1).

-- name: get_credit_note
SELECT * FROM rm_credit_notes WHERE business_id = $1 AND id = $2;

-- name: list_credit_notes
-- $2: an invoice id or NULL for all; $3/$4: limit/offset. Newest first.
SELECT * FROM rm_credit_notes
WHERE business_id = $1 AND ($2::uuid IS NULL OR invoice_id = $2)
ORDER BY created_at DESC, id DESC
LIMIT $3 OFFSET $4;

-- name: count_credit_notes
SELECT count(*) FROM rm_credit_notes
WHERE business_id = $1 AND ($2::uuid IS NULL OR invoice_id = $2);

-- name: get_credit_note_by_token
-- The public page's lookup: the token is the only key (no business known yet).
SELECT * FROM rm_credit_notes WHERE public_token = $1;
