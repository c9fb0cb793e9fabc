-- The business's event feed, read from the event store itself (not a projection):
-- business_events is written by a trigger in each appending transaction (migration 0014),
-- so it shows the same commit-ordered prefix of notification ids as invoicing_events.
-- Each index row fetches its event by the store's unique notification_id (OFFSET 0 keeps the
-- lookup a nested loop that stops at LIMIT; a merge join would walk the store from the start).

-- name: business_page
SELECT b.notification_id, e.originator_id, e.originator_version, e.topic, e.state
FROM business_events b
CROSS JOIN LATERAL (
    SELECT originator_id, originator_version, topic, state FROM invoicing_events
    WHERE notification_id = b.notification_id OFFSET 0
) e
WHERE b.business_id = $1 AND b.notification_id > $2 AND e.topic = ANY($3::text[])
ORDER BY b.notification_id
LIMIT $4;

-- name: all_businesses_page
SELECT b.notification_id, b.business_id, e.originator_id, e.originator_version, e.topic
FROM business_events b
CROSS JOIN LATERAL (
    SELECT originator_id, originator_version, topic FROM invoicing_events
    WHERE notification_id = b.notification_id OFFSET 0
) e
WHERE b.notification_id > $1 AND e.topic = ANY($2::text[])
ORDER BY b.notification_id
LIMIT $3;
