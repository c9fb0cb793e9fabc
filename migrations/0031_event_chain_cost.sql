-- The hash chain's cost per append, cut (issue 18: append throughput with the chain on vs off
-- >= 0.9). Same chain, same links, same owner rule: nothing stored changes, only how and where
-- they are computed. PostgreSQL CPU per append (one connection, each append its own
-- transaction of 2 events, a new aggregate and the next version of another, as creating an
-- invoice writes; the backend's CPU from /proc): about 145 µs without the chain, 330-410 µs
-- with 0016's trigger, 235 µs after 1-3 below, 270 µs after 4, which moves the chain's work out
-- of the table lock that serialises all appends (docs/audit.md, "Why a trigger, and what it
-- costs").
--
-- 1. The trigger's two look-ups were planned again on every call. A plan cached by PL/pgSQL
--    starts with custom plans and keeps them when the generic one looks no cheaper; here that
--    meant planning both statements for every inserted event. The trigger's SET enable_seqscan
--    = off already makes the generic plan use the indexes whatever the statistics, so the
--    generic plan is forced.
ALTER FUNCTION invoicing_events_chain() SET plan_cache_mode = force_generic_plan;

-- 2. event_chain_link was declared IMMUTABLE but calls convert_to, which is only STABLE: the
--    planner then refuses to inline it, and each call ran as a separate SQL function (about
--    40 µs of set-up per event, for a 4 µs SHA-256). STABLE is what it is: the text-to-UTF-8
--    conversion follows the database encoding; the bytes hashed do not change.
ALTER FUNCTION event_chain_link(bytea, uuid, bigint, text, bytea) STABLE;

-- 3. The owner of a version-1 event: parse the state as JSON, one call into PostgreSQL's C
--    parser (about 6 µs for a created event). The byte-matching fast path of 0016 evaluated a
--    dozen PL/pgSQL expressions, each set up again in every transaction: slower than the parse
--    it was meant to avoid. Same rule, same answers (tests/operations/test_event_chain.py):
--    the top-level business_id, as {"_type_":"uuid_hex","_data_":...} or as a string; else,
--    or when the state is not UTF-8 JSON, the aggregate itself. (STABLE, as convert_from is.)
CREATE OR REPLACE FUNCTION event_chain_owner(originator_id uuid, state bytea) RETURNS uuid
LANGUAGE plpgsql STABLE AS $$
DECLARE
    body json;
BEGIN
    body := convert_from(state, 'UTF8')::json;
    RETURN coalesce(
        (body #>> '{business_id,_data_}')::uuid,
        CASE WHEN json_typeof(body -> 'business_id') = 'string'
             THEN (body ->> 'business_id')::uuid END,
        originator_id);
EXCEPTION WHEN others THEN
    RETURN originator_id;
END $$;

-- 4. The app's append (0030's function) computes the chain itself, before it takes the table
--    lock, so that the lock that serialises every append of every business covers no chain
--    work: each event's owner (no lock needed: a version 1 never changes), then the advisory
--    lock of each business the append writes to (the trigger's lock, taken in one fixed
--    order), then, in a new snapshot that sees every event committed before that lock was
--    granted, each business's head and each event's position and link. Then, as before, the
--    table lock, NOTIFY and the INSERT, now with the chain columns filled. Positions still
--    follow each business's commit order: the business's lock is held until commit.
--    The library's guarantees are unchanged (0030): the table lock is taken before any
--    notification id is drawn and held until commit.
CREATE OR REPLACE FUNCTION invoicing_events_append(events stored_event_uuid[], wait_for_lock text)
RETURNS SETOF bigint
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan  -- see 1: index look-ups, planned once
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
DECLARE
    owners uuid[];
    positions bigint[] := '{}';
    links bytea[] := '{}';
    head_owners uuid[] := '{}';  -- each business of this append, its position and link so far
    head_positions bigint[] := '{}';
    head_links bytea[] := '{}';
    event stored_event_uuid;
    at integer;
    previous bytea;
    previous_position bigint;
BEGIN
    PERFORM set_config('lock_timeout', wait_for_lock, true);  -- the advisory locks wait too
    -- The owner rule of 0016: a later version joins its version 1's business (stored, or
    -- earlier in this append); a version 1 names it.
    owners := ARRAY(
        SELECT coalesce(
            (SELECT f.chain_business FROM invoicing_events f
             WHERE e.originator_version > 1
               AND f.originator_id = e.originator_id AND f.originator_version = 1),
            (SELECT event_chain_owner(g.originator_id, g.state)
             FROM unnest(events) AS g
             WHERE e.originator_version > 1
               AND g.originator_id = e.originator_id AND g.originator_version = 1),
            event_chain_owner(e.originator_id, e.state))
        FROM unnest(events) WITH ORDINALITY AS e ORDER BY e.ordinality);
    PERFORM pg_advisory_xact_lock(hashtext('fastfaktura.event_chain'), hashtext(o::text))
    FROM (SELECT DISTINCT o FROM unnest(owners) AS o) AS each_owner
    ORDER BY hashtext(o::text);
    FOR i IN 1 .. cardinality(events) LOOP
        event := events[i];
        at := array_position(head_owners, owners[i]);
        IF at IS NULL THEN
            SELECT h.chain_position, h.chain_hash INTO previous_position, previous
            FROM invoicing_events h WHERE h.chain_business = owners[i]
            ORDER BY h.chain_position DESC LIMIT 1;
            head_owners := head_owners || owners[i];
            head_positions := head_positions || coalesce(previous_position, 0);
            head_links := head_links || coalesce(previous, event_chain_genesis(owners[i]));
            at := cardinality(head_owners);
        END IF;
        head_positions[at] := head_positions[at] + 1;
        head_links[at] := event_chain_link(head_links[at], event.originator_id,
                                           event.originator_version, event.topic, event.state);
        positions := positions || head_positions[at];
        links := links || head_links[at];
    END LOOP;
    LOCK TABLE invoicing_events IN EXCLUSIVE MODE;
    NOTIFY invoicing_events;
    RETURN QUERY
        INSERT INTO invoicing_events AS t (originator_id, originator_version, topic, state,
                                           chain_business, chain_position, chain_hash)
        SELECT x.originator_id, x.originator_version, x.topic, x.state, x.owner, x.position, x.link
        FROM unnest(events, owners, positions, links)
             AS x(originator_id, originator_version, topic, state, owner, position, link)
        RETURNING t.notification_id;
END $$;

-- Any other writer (psql, COPY, the library's own insert) still gets its chain from the
-- trigger. A row that arrives with its link is kept as written: audit verify recomputes every
-- link from the stored bytes, so a wrong one is reported, not trusted. The two paths take the
-- same two locks in opposite orders (the function: business, then table; another writer's
-- INSERT: table, then business in the trigger): should both meet on one business at the same
-- moment, PostgreSQL detects the deadlock after deadlock_timeout and cancels one of them (the
-- app's recorder retries it). The app itself only uses the function.
DROP TRIGGER invoicing_events_chain ON invoicing_events;
CREATE TRIGGER invoicing_events_chain
    BEFORE INSERT ON invoicing_events
    FOR EACH ROW WHEN (NEW.chain_hash IS NULL) EXECUTE FUNCTION invoicing_events_chain();
