-- Tracking positions of the read models (asyncpg). {tracking} is a read model's tracking table
-- (code constant, never user input); 'Invoicing' is the upstream application's name.

-- name: position
SELECT notification_id FROM {tracking} WHERE application_name = 'Invoicing';

-- name: status
-- position: last event applied; head: last event in the store; lag: events of the read
-- model's topics recorded after its position (what it still has to apply).
SELECT t.position,
       (SELECT max(notification_id) FROM invoicing_events) AS head,
       (SELECT count(*) FROM invoicing_events
         WHERE notification_id > coalesce(t.position, 0) AND topic = ANY($1::text[])) AS lag
FROM (SELECT (SELECT notification_id FROM {tracking}
              WHERE application_name = 'Invoicing') AS position) AS t;
