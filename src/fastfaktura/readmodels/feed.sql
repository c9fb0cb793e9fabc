-- The business's event feed, read from the event store itself (not a projection). An event's
-- business is its chain_business (migration 0016, the one owner rule: docs/audit.md "Which
-- business"), written on the row by the appending transaction, so a reader sees it exactly
-- when it sees the event, in the store's commit-ordered prefix of notification ids.

-- name: business_page
-- A range scan of (chain_business, notification_id), stopping at LIMIT. The business is given
-- as a range of one value, not `=`: with `=` the planner takes the business as a constant, so
-- the store's notification_id key also gives the order, and it may walk that key from the
-- cursor filtering one business (a prepared, generic plan does): the longer the fewer events
-- the business has. With the range, only this index gives the order asked for.
SELECT notification_id, originator_id, originator_version, topic, state
FROM invoicing_events
WHERE chain_business >= $1 AND chain_business <= $1
  AND notification_id > $2 AND topic = ANY($3::text[])
ORDER BY chain_business, notification_id
LIMIT $4;

-- name: all_businesses_page
-- The store's own key, every business (the webhook fan-out); events of an aggregate that
-- names no business carry an id no business has, and find no endpoint.
SELECT notification_id, chain_business AS business_id, originator_id, originator_version, topic
FROM invoicing_events
WHERE notification_id > $1 AND topic = ANY($2::text[])
ORDER BY notification_id
LIMIT $3;
