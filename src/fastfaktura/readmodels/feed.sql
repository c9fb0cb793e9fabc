-- The business's event feed, read from the event store itself (not a projection):
-- business_events is written by a trigger in each appending transaction (migration 0014),
-- so it shows the same commit-ordered prefix of notification ids as invoicing_events.

-- name: business_page
SELECT b.notification_id, e.originator_id, e.originator_version, e.topic, e.state
FROM business_events b
JOIN invoicing_events e ON e.notification_id = b.notification_id
WHERE b.business_id = $1 AND b.notification_id > $2 AND e.topic = ANY($3::text[])
ORDER BY b.notification_id
LIMIT $4;

-- name: all_businesses_page
SELECT b.notification_id, b.business_id, e.originator_id, e.originator_version, e.topic
FROM business_events b
JOIN invoicing_events e ON e.notification_id = b.notification_id
WHERE b.notification_id > $1 AND e.topic = ANY($2::text[])
ORDER BY b.notification_id
LIMIT $3;
