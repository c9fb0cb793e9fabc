-- Queries on rm_invoice_events (asyncpg). Every query filters by business_id ($1).

-- name: invoice_events
SELECT id, type, version, occurred_at, data FROM rm_invoice_events
WHERE business_id = $1 AND invoice_id = $2
ORDER BY version;
