-- A hash chain per business over invoicing_events (issue 18, docs/audit.md).
--
-- Every event row gets the business whose chain it belongs to, its position in that chain
-- (1, 2, ...) and its link: sha256(previous link || the event's stored bytes). A BEFORE INSERT
-- trigger writes them in the same transaction as the event, whoever inserts it (the app, psql,
-- COPY): a writer that bypasses the app still extends the chain. The chain's current head is
-- one row per business in event_chain_heads; updating that row locks it until commit, so two
-- transactions writing the same business take their positions in their commit order, and
-- different businesses never wait for each other (no lock besides the library's own).
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

CREATE TABLE event_chain_heads (
    business_id uuid PRIMARY KEY,
    events bigint NOT NULL,
    head bytea NOT NULL
);

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

-- The business named in a version-1 event's state (JSONTranscoder writes a UUID as
-- {"_type_": "uuid_hex", "_data_": "..."}), else the aggregate itself. Only the JSON check
-- costs: states that are not JSON (a cipher, another writer) fall back to the aggregate.
CREATE FUNCTION event_chain_owner(originator_id uuid, state bytea) RETURNS uuid
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    body jsonb;
    named text;
BEGIN
    BEGIN
        body := convert_from(state, 'UTF8')::jsonb;
        named := coalesce(
            body #>> '{business_id,_data_}',
            CASE WHEN jsonb_typeof(body -> 'business_id') = 'string'
                 THEN body ->> 'business_id' END
        );
        RETURN coalesce(named::uuid, originator_id);
    EXCEPTION WHEN others THEN
        RETURN originator_id;
    END;
END $$;

-- Appends one event to its business's chain: (business, position, link).
CREATE FUNCTION event_chain_append(
    originator_id uuid, originator_version bigint, topic text, state bytea,
    OUT business uuid, OUT chain_position bigint, OUT link bytea
)
LANGUAGE plpgsql AS $$
BEGIN
    IF originator_version > 1 THEN
        SELECT e.chain_business INTO business FROM invoicing_events e
        WHERE e.originator_id = event_chain_append.originator_id AND e.originator_version = 1;
    END IF;
    IF business IS NULL THEN
        business := event_chain_owner(originator_id, state);
    END IF;
    -- The row lock taken here is held until commit: the per-business order is the commit order.
    UPDATE event_chain_heads h
    SET events = h.events + 1,
        head = event_chain_link(h.head, originator_id, originator_version, topic, state)
    WHERE h.business_id = business
    RETURNING h.events, h.head INTO chain_position, link;
    IF NOT FOUND THEN
        INSERT INTO event_chain_heads AS h (business_id, events, head)
        VALUES (business, 1, event_chain_link(
            event_chain_genesis(business), originator_id, originator_version, topic, state))
        ON CONFLICT (business_id) DO UPDATE
        SET events = h.events + 1,
            head = event_chain_link(h.head, originator_id, originator_version, topic, state)
        RETURNING h.events, h.head INTO chain_position, link;
    END IF;
END $$;

-- Chain the events already stored, in notification order: the library's table lock made that
-- the commit order.
ALTER TABLE invoicing_events DISABLE TRIGGER invoicing_events_no_update_delete;
DO $$
DECLARE
    event record;
    appended record;
BEGIN
    FOR event IN
        SELECT originator_id, originator_version, topic, state
        FROM invoicing_events ORDER BY notification_id
    LOOP
        appended := event_chain_append(
            event.originator_id, event.originator_version, event.topic, event.state);
        UPDATE invoicing_events
        SET chain_business = appended.business,
            chain_position = appended.chain_position,
            chain_hash = appended.link
        WHERE originator_id = event.originator_id
          AND originator_version = event.originator_version;
    END LOOP;
END $$;
ALTER TABLE invoicing_events ENABLE TRIGGER invoicing_events_no_update_delete;

ALTER TABLE invoicing_events
    ALTER COLUMN chain_business SET NOT NULL,
    ALTER COLUMN chain_position SET NOT NULL,
    ALTER COLUMN chain_hash SET NOT NULL;

CREATE UNIQUE INDEX invoicing_events_chain_idx
    ON invoicing_events (chain_business, chain_position);

CREATE FUNCTION invoicing_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    appended record;
BEGIN
    appended := event_chain_append(
        NEW.originator_id, NEW.originator_version, NEW.topic, NEW.state);
    NEW.chain_business := appended.business;
    NEW.chain_position := appended.chain_position;
    NEW.chain_hash := appended.link;
    RETURN NEW;
END $$;

CREATE TRIGGER invoicing_events_chain
    BEFORE INSERT ON invoicing_events
    FOR EACH ROW EXECUTE FUNCTION invoicing_events_chain();
