-- Queries on rm_invoices (asyncpg). Every query filters by business_id ($1).

-- name: get_invoice
SELECT * FROM rm_invoices WHERE business_id = $1 AND id = $2;

-- name: list_invoices
-- $2: status or NULL for all; $3/$4: limit/offset. Newest first.
SELECT * FROM rm_invoices
WHERE business_id = $1 AND ($2::text IS NULL OR status = $2)
ORDER BY created_at DESC, id DESC
LIMIT $3 OFFSET $4;

-- name: count_invoices
SELECT count(*) FROM rm_invoices WHERE business_id = $1 AND ($2::text IS NULL OR status = $2);

-- name: overdue_candidates
-- Sent or opened invoices past their due date, for the overdue sweep (all businesses).
SELECT business_id, id FROM rm_invoices
WHERE status IN ('sent', 'opened') AND due_date < $1
ORDER BY due_date, id;

-- name: get_invoice_by_token
-- The public page: the token is the only key (>= 128 random bits), no business is known yet.
SELECT * FROM rm_invoices WHERE public_token = $1;
