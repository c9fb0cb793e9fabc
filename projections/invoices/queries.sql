-- Queries on rm_invoices (asyncpg). Every query filters by business_id ($1).

-- name: get_invoice
SELECT * FROM rm_invoices WHERE business_id = $1 AND id = $2;

-- name: get_invoice_response
-- The whole answer of GET /api/v1/invoices/ID, encoded by the projection (issue 12). The
-- invoice's rm_invoices row stays the authority on whether it exists (a primary-key probe).
SELECT r.response FROM rm_invoice_responses r
JOIN rm_invoices i ON i.business_id = r.business_id AND i.id = r.id
WHERE r.business_id = $1 AND r.id = $2;

-- name: filtered_invoices
-- The filtered list and the export are composed from these pieces by the query gateway
-- (readmodels/queries/invoices.py): the WHERE part is `business_id = $1` and one condition
-- per filter given (`filter_*`, `n` its parameter). Only the filters given reach the SQL, so
-- PostgreSQL plans each combination on its own indexes (a generic plan of
-- `($n IS NULL OR ...)` would not).
SELECT * FROM rm_invoices WHERE {where}
ORDER BY created_at DESC, id DESC
LIMIT {limit} OFFSET {offset};

-- name: filtered_invoices_in_range
-- With a date range: the range's keys first (an index-only scan of the date index), sorted,
-- then the page's rows. Issue date and creation go together, so walking the newest-first index
-- until the page is full (what the planner picks for a LIMIT) would read most of the business
-- to reach an old range.
WITH matching AS MATERIALIZED (SELECT id, created_at FROM rm_invoices WHERE {where}),
page AS (SELECT id, created_at FROM matching ORDER BY created_at DESC, id DESC
         LIMIT {limit} OFFSET {offset})
SELECT rm_invoices.* FROM page JOIN rm_invoices ON rm_invoices.business_id = $1
  AND rm_invoices.id = page.id
ORDER BY page.created_at DESC, page.id DESC;

-- name: count_filtered_invoices
SELECT count(*) FROM rm_invoices WHERE {where};

-- name: export_batch
-- Keyset pagination, newest first: a batch after the first adds `after_row`.
SELECT * FROM rm_invoices WHERE {where}
ORDER BY created_at DESC, id DESC
LIMIT {limit};

-- name: after_row
(created_at, id) < ({n}, {m})

-- name: filter_status
status = {n}

-- name: filter_client_id
client_id = {n}

-- name: filter_number
number = {n}

-- name: filter_q
-- A substring of the number or of the client's name on the invoice, any case. strpos, not
-- LIKE: % and _ in what was typed are plain characters.
(strpos(lower(number), lower({n})) > 0 OR strpos(lower(buyer->>'name'), lower({n})) > 0)

-- name: filter_issue_date_from
issue_date >= {n}

-- name: filter_issue_date_to
issue_date <= {n}

-- name: filter_due_date_from
due_date >= {n}

-- name: filter_due_date_to
due_date <= {n}

-- name: overdue_candidates
-- Sent or opened invoices past their due date, for the overdue sweep (all businesses).
SELECT business_id, id FROM rm_invoices
WHERE status IN ('sent', 'opened') AND due_date < $1
ORDER BY due_date, id;

-- name: get_invoice_by_token
-- The public page: the token is the only key (>= 128 random bits), no business is known yet.
SELECT * FROM rm_invoices WHERE public_token = $1;
