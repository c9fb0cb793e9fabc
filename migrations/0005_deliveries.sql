-- Deliveries: the read model of every delivery decided (derived from the invoice events, so
-- rebuildable), the worker's retry bookkeeping (operational, not rebuilt), and the sandbox
-- outbox where sandbox businesses' messages are kept instead of being sent.

CREATE TABLE rm_deliveries (
    business_id uuid NOT NULL,
    invoice_id uuid NOT NULL,
    id uuid NOT NULL,
    channel text NOT NULL,
    recipient text,
    kind text NOT NULL,
    status text NOT NULL,
    error text,
    version bigint NOT NULL,
    PRIMARY KEY (business_id, invoice_id, id)
);
CREATE INDEX ON rm_deliveries (invoice_id);
CREATE INDEX ON rm_deliveries (status) WHERE status = 'pending';

CREATE TABLE deliveries_tracking (application_name text PRIMARY KEY, notification_id bigint);

CREATE TABLE delivery_attempts (
    delivery_id uuid PRIMARY KEY,
    attempts integer NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    last_error text,
    done_at timestamptz          -- performed; only the `delivered` event may still be missing
);

CREATE TABLE sandbox_messages (
    business_id uuid NOT NULL,
    id uuid NOT NULL,             -- the delivery id: a retried delivery cannot add a second one
    invoice_id uuid NOT NULL,
    channel text NOT NULL,
    recipient text,
    subject text,
    body text NOT NULL,
    url text NOT NULL,
    attachments jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (business_id, id)
);
CREATE INDEX ON sandbox_messages (business_id, created_at DESC, id DESC);
CREATE INDEX ON sandbox_messages (business_id, invoice_id, created_at DESC);
