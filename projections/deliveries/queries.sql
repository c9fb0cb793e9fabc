-- Deliveries (asyncpg): the worker's to-do list, the send endpoint's wait, the sandbox outbox.

-- name: due_deliveries
-- Pending deliveries whose next attempt is due, oldest decision first (all businesses).
SELECT d.business_id, d.invoice_id, d.id, d.channel, d.recipient, d.kind,
       coalesce(a.attempts, 0) AS attempts, a.last_error, a.done_at IS NOT NULL AS done
FROM rm_deliveries d
LEFT JOIN delivery_attempts a ON a.delivery_id = d.id
WHERE d.status = 'pending' AND (a.next_attempt_at IS NULL OR a.next_attempt_at <= now())
ORDER BY d.version, d.id
LIMIT $1;

-- name: note_attempt
INSERT INTO delivery_attempts (delivery_id, attempts, next_attempt_at, last_error)
VALUES ($1, 1, now() + make_interval(secs => $2), $3)
ON CONFLICT (delivery_id) DO UPDATE SET
    attempts = delivery_attempts.attempts + 1,
    next_attempt_at = now() + make_interval(secs => $2),
    last_error = $3;

-- name: note_done
INSERT INTO delivery_attempts (delivery_id, attempts, next_attempt_at, done_at)
VALUES ($1, 1, now(), now())
ON CONFLICT (delivery_id) DO UPDATE SET done_at = now(), next_attempt_at = now();

-- name: delivery_statuses
SELECT id, status FROM rm_deliveries WHERE business_id = $1 AND invoice_id = $2;

-- name: keep_sandbox_message
INSERT INTO sandbox_messages (business_id, id, invoice_id, channel, recipient, subject, body,
    url, attachments)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (business_id, id) DO NOTHING;

-- name: list_sandbox_messages
-- $2: invoice id or NULL; newest first.
SELECT * FROM sandbox_messages
WHERE business_id = $1 AND ($2::uuid IS NULL OR invoice_id = $2)
ORDER BY created_at DESC, id DESC
LIMIT $3 OFFSET $4;

-- name: count_sandbox_messages
SELECT count(*) FROM sandbox_messages
WHERE business_id = $1 AND ($2::uuid IS NULL OR invoice_id = $2);
