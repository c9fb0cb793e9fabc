-- The event store's append in one statement, so in one client round trip (issue 12).
--
-- The library's append (eventsourcing.postgres.PostgresApplicationRecorder.insert_events) sends
-- SET LOCAL lock_timeout, LOCK TABLE invoicing_events IN EXCLUSIVE MODE, NOTIFY and the INSERT
-- in one pipeline, waits for the answer, then sends COMMIT: the table lock, which serialises
-- every append, is held across a second round trip and across whatever delays the writing
-- thread in between (in the API process: waiting for the GIL). This function does the same
-- statements, in the same order, inside one statement: called in autocommit mode, the implicit
-- transaction commits as the statement ends, so the lock is held on the server only.
--
-- The guarantees are the library's, unchanged: the EXCLUSIVE table lock is taken before any
-- notification id is drawn and held until commit, so notification-id order is commit order and
-- a reader tailing "after id N" never skips an event that commits later (EVENTSOURCING-NOTES
-- 1.9). The hash chain's BEFORE INSERT trigger (0016) runs inside it as before, after the table
-- lock, as before. Unlike the library's own es_insert_events_uuid (POSTGRES_ENABLE_DB_FUNCTIONS),
-- which drops the lock, this one keeps it.
--
-- `wait_for_lock`: the library's POSTGRES_LOCK_TIMEOUT as a lock_timeout value ('0s': forever).
-- The RETURNING order is the order of `events`, as the library's INSERT ... SELECT unnest().
CREATE FUNCTION invoicing_events_append(events stored_event_uuid[], wait_for_lock text)
RETURNS SETOF bigint
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('lock_timeout', wait_for_lock, true);
    LOCK TABLE invoicing_events IN EXCLUSIVE MODE;
    NOTIFY invoicing_events;
    RETURN QUERY
        INSERT INTO invoicing_events AS t (originator_id, originator_version, topic, state)
        SELECT e.originator_id, e.originator_version, e.topic, e.state FROM unnest(events) AS e
        RETURNING t.notification_id;
END $$;
