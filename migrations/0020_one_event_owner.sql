-- One rule for "which business owns an event": invoicing_events.chain_business.
--
-- Migrations 0014 (the event feed) and 0016 (the hash chain) were written in parallel and each
-- kept its own answer: event_owners + business_events, written by an AFTER INSERT statement
-- trigger, for the feed and the webhook fan-out; chain_business, written on the row itself by
-- the chain's BEFORE INSERT trigger, for audit verify. Kept: chain_business. It is on every
-- event (NOT NULL), it is what the chain hashes and verifies, so it cannot be dropped while the
-- chain exists, and reading it costs no second trigger, no second table and no join.
--
-- The feed's no-skip guarantee is unchanged: chain_business is part of the event row, so a
-- reader sees it exactly when it sees the event, and the library's table lock still makes
-- notification-id order commit order. The two rules agree on every event the feed shows: the
-- business named by business_id in the aggregate's version-1 event, the Business aggregate
-- owning itself. (Where 0014 left a stream without owner, a state that is not JSON, 0016 makes
-- the aggregate its own chain: an id no business has, so it stays out of every feed.)

-- GET /events pages one business by notification id; the fan-out reads the store by its key.
CREATE INDEX invoicing_events_business_feed_idx
    ON invoicing_events (chain_business, notification_id);

DROP TRIGGER invoicing_events_owners ON invoicing_events;
DROP FUNCTION invoicing_events_index_owners();
DROP FUNCTION invoicing_events_owner(text, uuid, bytea);
DROP TABLE business_events;
DROP TABLE event_owners;
