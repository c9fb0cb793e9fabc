-- Tracking statements of the projection machinery (psycopg). {tracking} is a read model's
-- tracking table.

-- name: claim
-- Claim an event for the live path. When the tracking row is at or past it already (a rebuild
-- or a catch-up applied it), raise (SQLSTATE FFA01, migration 0032): the transaction aborts,
-- rows and all, so the runner sends its rows and COMMIT with the claim, without reading it.
WITH advanced AS (
    INSERT INTO {tracking} (application_name, notification_id) VALUES ('Invoicing', %(position)s)
    ON CONFLICT (application_name) DO UPDATE SET notification_id = EXCLUDED.notification_id
    WHERE {tracking}.notification_id < EXCLUDED.notification_id
    RETURNING notification_id
)
SELECT read_model_claimed((SELECT notification_id FROM advanced));

-- name: ensure
INSERT INTO {tracking} (application_name, notification_id) VALUES ('Invoicing', 0)
ON CONFLICT (application_name) DO NOTHING;

-- name: lock
-- Held by catch-up and by a rebuild's swap: live writers wait on this row, then skip.
SELECT notification_id FROM {tracking} WHERE application_name = 'Invoicing' FOR UPDATE;

-- name: position
-- The audit reads it in the snapshot it reads the table in.
SELECT notification_id FROM {tracking} WHERE application_name = 'Invoicing';

-- name: set
UPDATE {tracking} SET notification_id = greatest(notification_id, %(position)s)
WHERE application_name = 'Invoicing';
