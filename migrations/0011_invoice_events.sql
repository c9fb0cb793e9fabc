-- The invoice's timeline as a read model: GET /api/v1/invoices/{id} answers its `events` from
-- here, not from the event store (GET /api/v1/invoices/{id}/events still reads the store).
-- Empty when created: the live runner projects every invoice's events from the start.

CREATE TABLE rm_invoice_events (
    business_id uuid NOT NULL,
    invoice_id uuid NOT NULL,
    version bigint NOT NULL,         -- the event's version in the invoice's stream
    id uuid NOT NULL,                -- uuid5 of the invoice id and the version: stable
    type text NOT NULL,              -- the event class in snake case
    occurred_at timestamptz NOT NULL,
    data text NOT NULL,              -- JSON written by msgspec; text keeps the event's key order
    PRIMARY KEY (business_id, invoice_id, version)
);
-- The ordered scans of rebuild and audit (several rows per invoice, in (invoice_id, key) order).
CREATE INDEX ON rm_invoice_events (invoice_id);

CREATE TABLE invoice_events_tracking (application_name text PRIMARY KEY, notification_id bigint);
