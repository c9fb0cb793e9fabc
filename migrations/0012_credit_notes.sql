-- Credit notes (API.md "Credit notes"): their read model, the invoice's credited amount, and
-- the business's credit-note prefix.

ALTER TABLE rm_business ADD COLUMN credit_note_prefix text NOT NULL DEFAULT 'A';

-- Invoices projected before credit notes existed were never credited.
ALTER TABLE rm_invoices ADD COLUMN amount_credited_cents bigint NOT NULL DEFAULT 0;

CREATE TABLE rm_credit_notes (
    business_id uuid NOT NULL,
    id uuid NOT NULL,
    number text NOT NULL,
    invoice_id uuid NOT NULL,
    invoice_number text NOT NULL,
    invoice_issue_date date NOT NULL,
    client_id uuid NOT NULL,
    currency text NOT NULL,
    issue_date date NOT NULL,
    reason text NOT NULL,
    lines jsonb NOT NULL,
    tax_breakdown jsonb NOT NULL,
    subtotal_cents bigint NOT NULL,
    tax_cents bigint NOT NULL,
    total_cents bigint NOT NULL,
    refund_due_cents bigint NOT NULL,
    refunded_cents bigint NOT NULL,
    seller jsonb NOT NULL,
    buyer jsonb NOT NULL,
    public_token text NOT NULL,
    version bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (business_id, id)
);
-- Newest first, optionally for one invoice (GET /credit_notes?invoice_id=).
CREATE INDEX ON rm_credit_notes (business_id, created_at DESC, id DESC);
CREATE INDEX ON rm_credit_notes (business_id, invoice_id, created_at DESC, id DESC);
CREATE UNIQUE INDEX ON rm_credit_notes (public_token);
-- Audit and rebuild scan it in aggregate-id order.
CREATE INDEX ON rm_credit_notes (id);

CREATE TABLE credit_notes_tracking (application_name text PRIMARY KEY, notification_id bigint);
