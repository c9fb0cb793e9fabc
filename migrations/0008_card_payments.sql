-- Card payments through Stripe (docs/payments.md).

-- The invoices read model learns each invoice's card payment request: `pending` (sent, money
-- due, no PaymentIntent yet) and `stale` (its amount or its being open no longer match the
-- invoice): the payments worker's to-do list; `requested`, `failed`, `closed`, or NULL.
ALTER TABLE rm_invoices ADD COLUMN card_payment text, ADD COLUMN payment_intent_id text;
-- Invoices sent before this migration that still ask for money get a PaymentIntent too (as a
-- rebuild would compute it).
UPDATE rm_invoices SET card_payment = 'pending'
WHERE status IN ('sent', 'opened', 'overdue') AND amount_due_cents > 0;
CREATE INDEX ON rm_invoices (business_id) WHERE card_payment IN ('pending', 'stale');

-- The worker's retry bookkeeping for its PaymentIntent calls (operational, never rebuilt).
CREATE TABLE payment_request_attempts (
    invoice_id uuid PRIMARY KEY,
    attempts integer NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    last_error text
);

-- Every Stripe webhook event that passed the signature check, exactly once per Stripe event id,
-- kept for good: the payments worker applies it, and whatever it cannot apply stays here,
-- visible to operators (`fastfaktura payments inbox`).
CREATE TABLE stripe_inbox (
    event_id text PRIMARY KEY,
    type text NOT NULL,
    livemode boolean NOT NULL,
    payment_intent_id text,
    payload jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    deliveries integer NOT NULL DEFAULT 1,         -- how often Stripe sent it
    status text NOT NULL DEFAULT 'received',  -- received|applied|ignored|needs_attention|resolved
    outcome text,                                   -- what the worker did, or why it could not
    business_id uuid,
    invoice_id uuid,
    processed_at timestamptz
);
CREATE INDEX ON stripe_inbox (received_at) WHERE status = 'received';
CREATE INDEX ON stripe_inbox (status, received_at);
CREATE INDEX ON stripe_inbox (payment_intent_id);
