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

-- name: due_credit_note_deliveries
-- The delivery worker's to-do list for credit notes (all businesses): pending deliveries whose
-- next attempt is due, oldest decision first. The predicate on `deliveries` is the partial
-- index's (migration 0017): only credit notes with a pending delivery are read.
SELECT c.business_id, c.invoice_id, c.id AS credit_note_id, (d ->> 'id')::uuid AS id,
       d ->> 'channel' AS channel, d ->> 'to' AS recipient, d ->> 'kind' AS kind,
       coalesce(a.attempts, 0) AS attempts, a.last_error, a.done_at IS NOT NULL AS done
FROM rm_credit_notes c
CROSS JOIN LATERAL jsonb_array_elements(c.deliveries) AS d
LEFT JOIN delivery_attempts a ON a.delivery_id = (d ->> 'id')::uuid
WHERE c.deliveries @> '[{"status": "pending"}]' AND d ->> 'status' = 'pending'
  AND (a.next_attempt_at IS NULL OR a.next_attempt_at <= now())
ORDER BY c.version, id
LIMIT $1;

-- name: credit_note_delivery_statuses
SELECT d ->> 'id' AS id, d ->> 'status' AS status
FROM rm_credit_notes c CROSS JOIN LATERAL jsonb_array_elements(c.deliveries) AS d
WHERE c.business_id = $1 AND c.id = $2;
