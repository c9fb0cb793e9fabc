-- The business's event feed (GET /api/v1/events) and outbound webhooks (docs/webhooks.md).
--
-- 1. Which business an event belongs to, maintained by a trigger in the appending
--    transaction itself. The library appends under LOCK TABLE invoicing_events IN EXCLUSIVE
--    MODE, so notification-id order is commit order; rows written here commit with their
--    events, so business_events shows the same gap-free prefix to every reader: a reader
--    paging "after id N" can never skip a row that commits later with a smaller id (the
--    projections' reasoning, EVENTSOURCING-NOTES §1.9). A projection-maintained index would
--    lag, and a column would need UPDATEs of the append-only table for the backfill.
--    The owner comes from the stream's first event: the Business aggregate owns itself, every
--    other aggregate carries `business_id` (the JSON transcoder writes a UUID as
--    {"_type_": "uuid_hex", "_data_": "..."}). A state that is not plain JSON (a cipher or a
--    compressor configured) is left without owner rather than failing the append.
CREATE TABLE event_owners (
    originator_id uuid PRIMARY KEY,
    business_id uuid NOT NULL
);

CREATE TABLE business_events (
    notification_id bigint PRIMARY KEY,
    business_id uuid NOT NULL
);
CREATE INDEX business_events_business_idx ON business_events (business_id, notification_id);

CREATE FUNCTION invoicing_events_owner(topic text, originator_id uuid, state bytea)
RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
    -- json, not jsonb: one key is read, so the text is parsed once, not converted.
    SELECT CASE
        WHEN topic = 'fastfaktura:Business.Created' THEN originator_id
        WHEN get_byte(state, 0) = 123  -- '{': plain JSON
            THEN (convert_from(state, 'UTF8')::json #>> '{business_id,_data_}')::uuid
    END
$$;

CREATE FUNCTION invoicing_events_index_owners() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_owners (originator_id, business_id)
    SELECT originator_id, owner FROM (
        SELECT originator_id, invoicing_events_owner(topic, originator_id, state) AS owner
        FROM appended WHERE originator_version = 1
    ) firsts
    WHERE owner IS NOT NULL
    ON CONFLICT DO NOTHING;
    INSERT INTO business_events (notification_id, business_id)
    SELECT a.notification_id, o.business_id
    FROM appended a JOIN event_owners o ON o.originator_id = a.originator_id;
    RETURN NULL;
END $$;

LOCK TABLE invoicing_events IN EXCLUSIVE MODE;  -- no append between the backfill and the trigger

INSERT INTO event_owners (originator_id, business_id)
SELECT originator_id, owner FROM (
    SELECT originator_id, invoicing_events_owner(topic, originator_id, state) AS owner
    FROM invoicing_events WHERE originator_version = 1
) firsts
WHERE owner IS NOT NULL;

INSERT INTO business_events (notification_id, business_id)
SELECT e.notification_id, o.business_id
FROM invoicing_events e JOIN event_owners o ON o.originator_id = e.originator_id;

CREATE TRIGGER invoicing_events_owners
    AFTER INSERT ON invoicing_events
    REFERENCING NEW TABLE AS appended
    FOR EACH STATEMENT EXECUTE FUNCTION invoicing_events_index_owners();

-- 2. Webhook endpoints: settings, not business facts, so a table rather than events. Their
--    secret must stay erasable, and DELETE only marks them deleted: the delivery log below
--    outlives them.
CREATE TABLE webhook_endpoints (
    id uuid PRIMARY KEY,
    business_id uuid NOT NULL,
    url text NOT NULL,
    events text[] NOT NULL,
    description text,
    secret text NOT NULL,
    -- The store's head at creation: only later events are delivered to it.
    starts_after bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    -- Since when every attempt has failed (null after a success); disabled past the limit.
    failing_since timestamptz,
    disabled_at timestamptz,
    disabled_reason text
);
CREATE INDEX webhook_endpoints_business_idx ON webhook_endpoints (business_id, created_at, id);

-- One message per endpoint and event: the delivery queue and its state.
CREATE TABLE webhook_deliveries (
    endpoint_id uuid NOT NULL,
    notification_id bigint NOT NULL,
    business_id uuid NOT NULL,
    event_id uuid NOT NULL,
    type text NOT NULL,
    object_id uuid NOT NULL,
    object_version bigint NOT NULL,
    status text NOT NULL DEFAULT 'pending',  -- pending | delivered | failed | cancelled
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    first_failed_at timestamptz,
    PRIMARY KEY (endpoint_id, notification_id)
);
CREATE UNIQUE INDEX webhook_deliveries_event_idx ON webhook_deliveries (endpoint_id, event_id);
CREATE INDEX webhook_deliveries_pending_idx
    ON webhook_deliveries (endpoint_id, object_id, notification_id) WHERE status = 'pending';

-- Every attempt, kept after the endpoint is deleted (GET .../deliveries).
CREATE TABLE webhook_attempts (
    id bigserial PRIMARY KEY,
    endpoint_id uuid NOT NULL,
    event_id uuid NOT NULL,
    type text NOT NULL,
    attempt integer NOT NULL,
    status_code integer,
    error text,
    duration_ms integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX webhook_attempts_endpoint_idx ON webhook_attempts (endpoint_id, id);

-- How far the webhook worker has fanned the store's events out to endpoints.
CREATE TABLE webhook_tracking (
    name text PRIMARY KEY,
    notification_id bigint NOT NULL
);
INSERT INTO webhook_tracking (name, notification_id) VALUES ('fan_out', 0);
