-- Invoices read model, its tracking table, and the Idempotency-Key store.

CREATE TABLE rm_invoices (
    business_id uuid NOT NULL,
    id uuid NOT NULL,
    number text NOT NULL,
    client_id uuid NOT NULL,
    currency text NOT NULL,
    status text NOT NULL,
    issue_date date NOT NULL,
    due_date date NOT NULL,
    notes text,
    subtotal_cents bigint NOT NULL,
    tax_cents bigint NOT NULL,
    total_cents bigint NOT NULL,
    amount_paid_cents bigint NOT NULL,
    amount_due_cents bigint NOT NULL,
    lines jsonb NOT NULL,
    tax_breakdown jsonb NOT NULL,
    seller jsonb NOT NULL,
    buyer jsonb NOT NULL,
    public_token text NOT NULL,
    version bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (business_id, id)
);
-- Newest first, optionally by status (GET /invoices?status=).
CREATE INDEX ON rm_invoices (business_id, created_at DESC, id DESC);
CREATE INDEX ON rm_invoices (business_id, status, created_at DESC, id DESC);
CREATE UNIQUE INDEX ON rm_invoices (public_token);

CREATE TABLE invoices_tracking (application_name text PRIMARY KEY, notification_id bigint);

-- Idempotency-Key: the first 2xx response of a POST, replayed for 24 hours.
CREATE TABLE idempotency_keys (
    business_id uuid NOT NULL,
    key text NOT NULL,
    fingerprint text NOT NULL,
    response_status integer,
    response_headers jsonb,
    response_body bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (business_id, key)
);
CREATE INDEX ON idempotency_keys (created_at);
