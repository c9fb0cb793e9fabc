-- The ordered scan of rebuild and the audit (psycopg): a read model's events straight from the
-- event store, in its primary-key order, so each aggregate's events arrive together.

-- name: events_in_id_order
-- low, high: the partition [low, high) of the id space (high NULL: to the end); upto: the
-- last notification id to include (NULL: all).
SELECT originator_id, originator_version, topic, state FROM invoicing_events
WHERE topic = ANY(%(topics)s) AND originator_id >= %(low)s
  AND (%(high)s::uuid IS NULL OR originator_id < %(high)s)
  AND (%(upto)s::bigint IS NULL OR notification_id <= %(upto)s)
ORDER BY originator_id, originator_version
