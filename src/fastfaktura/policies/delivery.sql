-- The delivery worker's bookkeeping (delivery_attempts) and the sandbox outbox it fills
-- (sandbox_messages). Operational tables, not read models: never rebuilt.

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

-- name: keep_sandbox_message
-- $10: the credit note's id for a credit note's message ($3 is then the invoice it credits).
INSERT INTO sandbox_messages (business_id, id, invoice_id, channel, recipient, subject, body,
    url, attachments, credit_note_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (business_id, id) DO NOTHING;
