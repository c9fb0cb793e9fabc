-- Webhook endpoints, their delivery queue and log (migration 0014). Every statement the API
-- runs is scoped by business_id: another business's endpoint is simply not found.

-- name: store_head
SELECT coalesce(max(notification_id), 0) FROM invoicing_events;

-- name: create_endpoint
INSERT INTO webhook_endpoints (id, business_id, url, events, description, secret, starts_after)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING *;

-- name: get_endpoint
SELECT * FROM webhook_endpoints WHERE business_id = $1 AND id = $2 AND deleted_at IS NULL;

-- name: get_endpoint_even_deleted
SELECT * FROM webhook_endpoints WHERE business_id = $1 AND id = $2;

-- name: list_endpoints
SELECT *, count(*) OVER () AS total FROM webhook_endpoints
WHERE business_id = $1 AND deleted_at IS NULL
ORDER BY created_at DESC, id DESC
LIMIT $2 OFFSET $3;

-- name: delete_endpoint
-- Its queue is cancelled; its deliveries and attempts stay (the log).
WITH deleted AS (
    UPDATE webhook_endpoints SET deleted_at = now()
    WHERE business_id = $1 AND id = $2 AND deleted_at IS NULL
    RETURNING *
), cancelled AS (
    UPDATE webhook_deliveries SET status = 'cancelled'
    WHERE endpoint_id IN (SELECT id FROM deleted) AND status = 'pending'
)
SELECT * FROM deleted;

-- name: list_attempts
SELECT a.*, count(*) OVER () AS total FROM webhook_attempts a
JOIN webhook_endpoints e ON e.id = a.endpoint_id
WHERE e.business_id = $1 AND a.endpoint_id = $2
ORDER BY a.id DESC
LIMIT $3 OFFSET $4;

-- name: retry_delivery
-- A fresh window of retries, at once; an endpoint disabled for its failures is enabled again.
WITH endpoint AS (
    UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL, failing_since = NULL
    WHERE business_id = $1 AND id = $2 AND deleted_at IS NULL
    RETURNING id
)
UPDATE webhook_deliveries d
SET status = 'pending', next_attempt_at = now(), first_failed_at = NULL
FROM endpoint
WHERE d.endpoint_id = endpoint.id AND d.event_id = $3
RETURNING d.event_id, d.status;

-- name: fan_out_pending
-- Whether a feed event waits past the fan-out's position, read without its lock: a pass with
-- nothing to fan out ends in this one statement (every append wakes the worker).
SELECT EXISTS (
    SELECT 1 FROM invoicing_events
    WHERE notification_id > coalesce(
        (SELECT notification_id FROM webhook_tracking WHERE name = 'fan_out'), 0)
      AND topic = ANY($1::text[])
);

-- name: fan_out_position
SELECT notification_id FROM webhook_tracking WHERE name = 'fan_out' FOR UPDATE;

-- name: set_fan_out_position
UPDATE webhook_tracking SET notification_id = $1 WHERE name = 'fan_out';

-- name: subscribed_endpoints
SELECT id, business_id, events, starts_after FROM webhook_endpoints
WHERE business_id = ANY($1::uuid[]) AND deleted_at IS NULL AND disabled_at IS NULL;

-- name: enqueue
INSERT INTO webhook_deliveries
    (endpoint_id, notification_id, business_id, event_id, type, object_id, object_version)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT DO NOTHING;

-- name: ready_deliveries
-- The oldest pending delivery of each (endpoint, object), when due: in order per object; at
-- most $2 per endpoint, so that one endpoint's backlog never hides the others'.
SELECT * FROM (
    SELECT head.*, row_number() OVER (
        PARTITION BY head.endpoint_id ORDER BY head.notification_id
    ) AS rank
    FROM (
        SELECT DISTINCT ON (d.endpoint_id, d.object_id) d.*, e.url, e.secret, b.mode
        FROM webhook_deliveries d
        JOIN webhook_endpoints e
            ON e.id = d.endpoint_id AND e.deleted_at IS NULL AND e.disabled_at IS NULL
        JOIN rm_business b ON b.business_id = d.business_id
        WHERE d.status = 'pending'
        ORDER BY d.endpoint_id, d.object_id, d.notification_id
    ) head
    WHERE head.next_attempt_at <= now()
) ready
WHERE rank <= $2
ORDER BY notification_id
LIMIT $1;

-- name: note_attempt
INSERT INTO webhook_attempts (endpoint_id, event_id, type, attempt, status_code, error, duration_ms)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: delivered
WITH done AS (
    UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1
    WHERE endpoint_id = $1 AND notification_id = $2 AND status = 'pending'
    RETURNING endpoint_id
)
UPDATE webhook_endpoints SET failing_since = NULL WHERE id IN (SELECT endpoint_id FROM done);

-- name: failed
-- $3: seconds until the next attempt; $4: seconds of failure after which to give up (the
-- delivery) and disable (the endpoint).
WITH attempt AS (
    UPDATE webhook_deliveries SET
        attempts = attempts + 1,
        first_failed_at = coalesce(first_failed_at, now()),
        next_attempt_at = now() + make_interval(secs => $3),
        status = CASE WHEN now() - coalesce(first_failed_at, now()) >= make_interval(secs => $4)
                      THEN 'failed' ELSE 'pending' END
    WHERE endpoint_id = $1 AND notification_id = $2 AND status = 'pending'
    RETURNING endpoint_id
)
UPDATE webhook_endpoints SET
    failing_since = coalesce(failing_since, now()),
    disabled_at = CASE WHEN now() - coalesce(failing_since, now()) >= make_interval(secs => $4)
                       THEN now() END,
    disabled_reason = CASE WHEN now() - coalesce(failing_since, now()) >= make_interval(secs => $4)
                           THEN 'every delivery failed for ' || $5 END
-- An endpoint already disabled (by a concurrent delivery's failure) is left as it is, so that
-- only the failure that disables it answers true (it is recorded once, as an event).
WHERE id IN (SELECT endpoint_id FROM attempt) AND disabled_at IS NULL
RETURNING disabled_at IS NOT NULL AS disabled;
