-- Card refunds through Stripe (docs/payments.md "Refunds"): the payments worker's bookkeeping,
-- one row per credit note it took up (operational, never rebuilt: the refunds themselves are
-- `refund_recorded` events of the credit note).
CREATE TABLE card_refunds (
    credit_note_id uuid PRIMARY KEY,
    business_id uuid NOT NULL,
    status text NOT NULL,            -- retrying|done|needs_attention
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    outcome text,                    -- what the worker did, or the last error
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON card_refunds (next_attempt_at) WHERE status = 'retrying';
CREATE INDEX ON card_refunds (status, updated_at);

-- The worker's to-do list looks for credit notes that still owe money back.
CREATE INDEX ON rm_credit_notes (business_id, invoice_id) WHERE refund_due_cents > 0;
