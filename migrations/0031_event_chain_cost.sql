-- The hash chain's cost per append, cut (issue 18: append throughput with the chain on vs off
-- >= 0.9). Same chain, same links, same owner rule: nothing stored changes, only how the
-- trigger of 0016 computes them. PostgreSQL CPU per append (one connection, each append its own
-- transaction of 2 events, a new aggregate and the next version of another, as creating an
-- invoice writes; the backend's CPU from /proc): about 145 µs without the chain, 330-410 µs
-- with 0016's trigger, 200-270 µs after this migration (docs/audit.md, "Why a trigger, and
-- what it costs").
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
