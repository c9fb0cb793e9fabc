-- Tracking statements of the projection machinery (psycopg). {tracking} is a read model's
-- tracking table.

-- name: advance
-- Claim an event for the live path: no row back means it was applied already (by a rebuild
-- or a catch-up), and the caller rolls its transaction back.
INSERT INTO {tracking} (application_name, notification_id) VALUES ('Invoicing', %(position)s)
ON CONFLICT (application_name) DO UPDATE SET notification_id = EXCLUDED.notification_id
WHERE {tracking}.notification_id < EXCLUDED.notification_id
RETURNING notification_id;

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
