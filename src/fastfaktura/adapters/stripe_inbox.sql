-- Card payments (asyncpg): the payments worker's to-do list and the Stripe webhook inbox.
-- Not a read model: see docs/payments.md.

-- name: due_payment_requests
-- Invoices whose PaymentIntent is to be created, updated or closed, of businesses whose mode
-- has a Stripe key ($1), whose next attempt is due; oldest first.
SELECT i.business_id, i.id, b.mode, coalesce(a.attempts, 0) AS attempts
FROM rm_invoices i
JOIN rm_business b ON b.business_id = i.business_id
LEFT JOIN payment_request_attempts a ON a.invoice_id = i.id
WHERE i.card_payment IN ('pending', 'stale') AND b.mode = ANY($1::text[])
  AND (a.next_attempt_at IS NULL OR a.next_attempt_at <= now())
ORDER BY i.updated_at, i.id
LIMIT $2;

-- name: note_payment_request_attempt
INSERT INTO payment_request_attempts (invoice_id, attempts, next_attempt_at, last_error)
VALUES ($1, 1, now() + make_interval(secs => $2), $3)
ON CONFLICT (invoice_id) DO UPDATE SET
    attempts = payment_request_attempts.attempts + 1,
    next_attempt_at = now() + make_interval(secs => $2),
    last_error = $3;

-- name: forget_payment_request_attempts
DELETE FROM payment_request_attempts WHERE invoice_id = $1;

-- name: keep_webhook
-- A verified event, once per Stripe event id; a repeat only counts the delivery.
-- Returns whether this call stored it.
INSERT INTO stripe_inbox AS inbox (event_id, type, livemode, payment_intent_id, payload)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (event_id) DO UPDATE SET deliveries = inbox.deliveries + 1
RETURNING (xmax = 0) AS first;

-- name: received_webhooks
SELECT event_id, type, livemode, payload FROM stripe_inbox
WHERE status = 'received'
ORDER BY received_at, event_id
LIMIT $1;

-- name: settle_webhook
UPDATE stripe_inbox
SET status = $2, outcome = $3, business_id = $4, invoice_id = $5, processed_at = now()
WHERE event_id = $1 AND status = 'received';

-- name: list_webhooks
-- $1: a status or NULL for all; newest first.
SELECT event_id, type, livemode, payment_intent_id, received_at, deliveries, status, outcome,
       business_id, invoice_id, processed_at
FROM stripe_inbox
WHERE $1::text IS NULL OR status = $1
ORDER BY received_at DESC, event_id DESC
LIMIT $2;

-- name: retry_webhook
-- An operator sends an event back to the worker (after fixing what stopped it).
UPDATE stripe_inbox SET status = 'received', outcome = NULL, processed_at = NULL
WHERE event_id = $1 AND status IN ('needs_attention', 'ignored')
RETURNING event_id;

-- name: resolve_webhook
-- An operator handled it by hand (refunded it, say): kept, with the note, and no longer listed
-- as needing attention.
UPDATE stripe_inbox
SET status = 'resolved', outcome = coalesce(outcome || ' | ', '') || 'resolved: ' || $2,
    processed_at = now()
WHERE event_id = $1 AND status = 'needs_attention'
RETURNING event_id;

-- name: due_card_refunds
-- Credit notes of businesses whose mode has a Stripe key ($1) that the worker has to look at:
-- owing money back on an invoice that had a PaymentIntent and never taken up, or taken up and
-- not settled (a retry whose time has come, or a refund started when the worker stopped,
-- however much is owed now); oldest first.
(SELECT c.business_id, c.id, b.mode, 0 AS attempts, c.created_at
 FROM rm_credit_notes c
 JOIN rm_invoices i ON i.business_id = c.business_id AND i.id = c.invoice_id
 JOIN rm_business b ON b.business_id = c.business_id
 WHERE c.refund_due_cents > 0 AND i.payment_intent_id IS NOT NULL AND b.mode = ANY($1::text[])
   AND NOT EXISTS (SELECT 1 FROM card_refunds r WHERE r.credit_note_id = c.id)
 UNION ALL
 SELECT c.business_id, c.id, b.mode, r.attempts, c.created_at
 FROM card_refunds r
 JOIN rm_credit_notes c ON c.business_id = r.business_id AND c.id = r.credit_note_id
 JOIN rm_business b ON b.business_id = c.business_id
 WHERE r.status = 'retrying' AND r.next_attempt_at <= now() AND b.mode = ANY($1::text[]))
ORDER BY created_at, id
LIMIT $2;

-- name: note_card_refund_started
-- Before the first call to Stripe: should the worker stop before recording the refund, the
-- credit note is looked at again even if a refund recorded by hand meanwhile leaves nothing due.
INSERT INTO card_refunds AS r (credit_note_id, business_id, status, outcome)
VALUES ($1, $2, 'retrying', 'refunding at Stripe')
ON CONFLICT (credit_note_id) DO UPDATE SET status = 'retrying', updated_at = now();

-- name: note_card_refund_attempt
-- A failed attempt: try again after $3 seconds.
INSERT INTO card_refunds AS r (credit_note_id, business_id, status, attempts, next_attempt_at,
                               outcome)
VALUES ($1, $2, 'retrying', 1, now() + make_interval(secs => $3), $4)
ON CONFLICT (credit_note_id) DO UPDATE SET
    status = 'retrying', attempts = r.attempts + 1,
    next_attempt_at = now() + make_interval(secs => $3), outcome = $4, updated_at = now();

-- name: settle_card_refund
-- The worker is done with the credit note: `done`, or `needs_attention` with the reason.
INSERT INTO card_refunds AS r (credit_note_id, business_id, status, attempts, outcome)
VALUES ($1, $2, $3, 1, $4)
ON CONFLICT (credit_note_id) DO UPDATE SET
    status = $3, attempts = r.attempts + 1, outcome = $4, updated_at = now();

-- name: list_card_refunds
-- $1: a status or NULL for all; newest first.
SELECT credit_note_id, business_id, status, attempts, next_attempt_at, outcome, updated_at
FROM card_refunds
WHERE $1::text IS NULL OR status = $1
ORDER BY updated_at DESC, credit_note_id DESC
LIMIT $2;
