-- A hash chain per business over invoicing_events (issue 18, docs/audit.md).
--
-- Every event row gets the business whose chain it belongs to, its position in that chain
-- (1, 2, ...) and its link: sha256(previous link || the event's stored bytes). A BEFORE INSERT
-- trigger writes them in the same transaction as the event, whoever inserts it (the app, psql,
-- COPY): a writer that bypasses the app still extends the chain. A per-business lock held
-- until commit (invoicing_events_chain, below) gives each business's events their commit
-- order; different businesses never wait for each other.
--
-- The bytes hashed (src/fastfaktura/adapters/event_chain.py computes the same, independently):
--   genesis(business) = sha256('fastfaktura event chain v1' || uuid bytes of the business)
--   link = sha256(previous || uuid bytes of originator_id || int8 originator_version
--                 || int8 length || topic (UTF-8) || int8 length || state)
-- (int8: 8 bytes, big-endian; the lengths make the encoding unambiguous.)
--
-- Which business: the business_id recorded in the aggregate's version-1 event (every
-- aggregate carrying one, including aggregates added later, without per-type code); an
-- aggregate without one (the Business itself) is its own chain.

ALTER TABLE invoicing_events
    ADD COLUMN chain_business uuid,
    ADD COLUMN chain_position bigint,
    ADD COLUMN chain_hash bytea;

CREATE FUNCTION event_chain_genesis(business uuid) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sha256('fastfaktura event chain v1'::bytea || uuid_send(business))
$$;

CREATE FUNCTION event_chain_link(
    previous bytea, originator_id uuid, originator_version bigint, topic text, state bytea
) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sha256(
        previous
        || uuid_send(originator_id)
        || int8send(originator_version)
        || int8send(octet_length(convert_to(coalesce(topic, ''), 'UTF8')))
        || convert_to(coalesce(topic, ''), 'UTF8')
        || int8send(octet_length(coalesce(state, ''::bytea)))
        || coalesce(state, ''::bytea)
    )
$$;

-- The business named in a version-1 event's state, else the aggregate itself. Fast path, byte
-- comparisons only: the head of the state exactly as this app's JSONTranscoder writes a created
-- event (compact JSON: the timestamp, originator_topic, then the first argument, business_id,
-- a UUID as {"_type_":"uuid_hex","_data_":"..."}), checked from its first byte so that the key
-- found is the top-level one. Any other state is parsed as JSON (slower); a state that is not
-- JSON (a cipher, another writer) falls back to the aggregate. (A regular expression with a
-- capture took about 0.8 ms per event: PostgreSQL's regex engine backtracks.)
CREATE FUNCTION event_chain_owner(originator_id uuid, state bytea) RETURNS uuid
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    head CONSTANT bytea := '{"timestamp":{"_type_":"datetime_iso","_data_":"';
    topic_key CONSTANT bytea := '"},"originator_topic":"';
    business_key CONSTANT bytea := '","business_id":{"_type_":"uuid_hex","_data_":"';
    start bytea;
    topic_at integer;
    key_at integer;
    named text;
    body json;
BEGIN
    IF substring(state FROM 1 FOR length(head)) = head THEN
        start := substring(state FROM 1 FOR 512);
        topic_at := position(topic_key IN start);
        IF topic_at > length(head)
           AND position('"'::bytea IN substring(start FROM length(head) + 1
                                                FOR topic_at - length(head) - 1)) = 0 THEN
            topic_at := topic_at + length(topic_key);
            key_at := position(business_key IN substring(start FROM topic_at));
            IF key_at > 0
               AND position('"'::bytea IN substring(start FROM topic_at FOR key_at - 1)) = 0
               AND position('\\'::bytea IN substring(start FROM topic_at FOR key_at - 1)) = 0 THEN
                key_at := topic_at + key_at - 1 + length(business_key);
                named := encode(substring(start FROM key_at FOR 32), 'escape');
                IF named ~ '^[0-9a-f]{32}$'
                   AND substring(start FROM key_at + 32 FOR 2) = '"}'::bytea THEN
                    RETURN named::uuid;
                END IF;
            END IF;
        END IF;
    END IF;
    BEGIN
        body := convert_from(state, 'UTF8')::json;
        named := coalesce(
            body #>> '{business_id,_data_}',
            CASE WHEN json_typeof(body -> 'business_id') = 'string'
                 THEN body ->> 'business_id' END
        );
        RETURN coalesce(named::uuid, originator_id);
    EXCEPTION WHEN others THEN
        RETURN originator_id;
    END;
END $$;

-- Finds a chain's end (its highest position), and orders a chain for audit verify.
CREATE UNIQUE INDEX invoicing_events_chain_idx
    ON invoicing_events (chain_business, chain_position);

-- Chain the events already stored, in notification order: the library's table lock made that
-- their commit order. ALTER TABLE holds the table exclusively until the migration commits: no
-- writer can interleave, so no per-business lock is needed here.
ALTER TABLE invoicing_events DISABLE TRIGGER invoicing_events_no_update_delete;
SET LOCAL enable_seqscan = off;  -- index look-ups per event (see invoicing_events_chain)
SET LOCAL enable_bitmapscan = off;
DO $$
DECLARE
    event record;
    business uuid;
    previous_position bigint;
    previous bytea;
BEGIN
    FOR event IN
        SELECT originator_id, originator_version, topic, state
        FROM invoicing_events ORDER BY notification_id
    LOOP
        business := NULL;
        IF event.originator_version > 1 THEN
            SELECT e.chain_business INTO business FROM invoicing_events e
            WHERE e.originator_id = event.originator_id AND e.originator_version = 1;
        END IF;
        business := coalesce(business, event_chain_owner(event.originator_id, event.state));
        SELECT e.chain_position, e.chain_hash INTO previous_position, previous
        FROM invoicing_events e WHERE e.chain_business = business
        ORDER BY e.chain_position DESC LIMIT 1;
        UPDATE invoicing_events
        SET chain_business = business,
            chain_position = coalesce(previous_position, 0) + 1,
            chain_hash = event_chain_link(
                coalesce(previous, event_chain_genesis(business)),
                event.originator_id, event.originator_version, event.topic, event.state)
        WHERE originator_id = event.originator_id
          AND originator_version = event.originator_version;
    END LOOP;
END $$;
ALTER TABLE invoicing_events ENABLE TRIGGER invoicing_events_no_update_delete;
RESET enable_seqscan;
RESET enable_bitmapscan;

ALTER TABLE invoicing_events
    ALTER COLUMN chain_business SET NOT NULL,
    ALTER COLUMN chain_position SET NOT NULL,
    ALTER COLUMN chain_hash SET NOT NULL;

-- Every new event: its business, position and link, whatever the inserted row said. The
-- chain's end is the business's highest position. A transaction-scoped advisory lock per
-- business, held until commit, makes a second writer of the same business wait until the
-- first has committed; its next statement (a fresh snapshot, READ COMMITTED) then sees that
-- event. So each business's positions follow its transactions' commit order. Different
-- businesses take different locks (a hash collision only makes two of them wait for each
-- other). The library's own table lock is untouched.
--
-- Both look-ups must use their index whatever the statistics say: on a table that was small
-- when a session planned them (a fresh store, a bulk load), a scan of the whole table per
-- inserted row would make a bulk insert quadratic.
CREATE FUNCTION invoicing_events_chain() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
DECLARE
    business uuid;
    previous_position bigint;
    previous bytea;
BEGIN
    IF NEW.originator_version > 1 THEN
        SELECT e.chain_business INTO business FROM invoicing_events e
        WHERE e.originator_id = NEW.originator_id AND e.originator_version = 1;
    END IF;
    business := coalesce(business, event_chain_owner(NEW.originator_id, NEW.state));
    PERFORM pg_advisory_xact_lock(hashtext('fastfaktura.event_chain'), hashtext(business::text));
    SELECT e.chain_position, e.chain_hash INTO previous_position, previous
    FROM invoicing_events e WHERE e.chain_business = business
    ORDER BY e.chain_position DESC LIMIT 1;
    NEW.chain_business := business;
    NEW.chain_position := coalesce(previous_position, 0) + 1;
    NEW.chain_hash := event_chain_link(
        coalesce(previous, event_chain_genesis(business)),
        NEW.originator_id, NEW.originator_version, NEW.topic, NEW.state);
    RETURN NEW;
END $$;

CREATE TRIGGER invoicing_events_chain
    BEFORE INSERT ON invoicing_events
    FOR EACH ROW EXECUTE FUNCTION invoicing_events_chain();
