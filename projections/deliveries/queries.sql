-- Queries on rm_deliveries (asyncpg): the worker's to-do list, the send endpoint's wait.

-- name: due_deliveries
-- Pending deliveries whose next attempt is due, oldest decision first (all businesses).
SELECT d.business_id, d.invoice_id, d.id, d.channel, d.recipient, d.kind,
       coalesce(a.attempts, 0) AS attempts, a.last_error, a.done_at IS NOT NULL AS done
FROM rm_deliveries d
LEFT JOIN delivery_attempts a ON a.delivery_id = d.id
WHERE d.status = 'pending' AND (a.next_attempt_at IS NULL OR a.next_attempt_at <= now())
ORDER BY d.version, d.id
LIMIT $1;

-- name: delivery_statuses
SELECT id, status FROM rm_deliveries WHERE business_id = $1 AND invoice_id = $2;
