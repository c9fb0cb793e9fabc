-- One business's events, as stored, in its hash chain's order (= commit order, migration
-- 0016_event_chain.sql; the chain's index serves it). Not a read model: `audit export` folds
-- them into the business's journal (docs/audit.md "The FEC export").

-- name: business_events
-- The business, and LIKE patterns of the topics of the aggregates wanted.
SELECT originator_id, originator_version, topic, state
FROM invoicing_events
WHERE chain_business = %(business)s AND topic LIKE ANY(%(topics)s)
ORDER BY chain_position
