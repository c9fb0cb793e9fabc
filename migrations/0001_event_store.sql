-- The eventsourcing 9.5 application recorder schema for the "Invoicing" application,
-- copied from eventsourcing.postgres.PostgresApplicationRecorder (the app runs with
-- CREATE_TABLE=n so that this file, not the library, owns the DDL).
-- Append-only: no code path updates or deletes rows of invoicing_events.
CREATE TYPE stored_event_uuid AS (
    originator_id uuid,
    originator_version bigint,
    topic text,
    state bytea
);

CREATE TABLE invoicing_events (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigserial,
    PRIMARY KEY (originator_id, originator_version)
) WITH (
    autovacuum_enabled = true,
    autovacuum_vacuum_threshold = 100000000,
    autovacuum_vacuum_scale_factor = 0.5,
    autovacuum_analyze_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.01
);

CREATE UNIQUE INDEX invoicing_events_notification_id_idx
    ON invoicing_events (notification_id ASC);

-- Appends are the only write: make any UPDATE or DELETE fail loudly.
CREATE FUNCTION invoicing_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'invoicing_events is append-only (% refused)', TG_OP;
END $$;

CREATE TRIGGER invoicing_events_no_update_delete
    BEFORE UPDATE OR DELETE ON invoicing_events
    FOR EACH ROW EXECUTE FUNCTION invoicing_events_append_only();
