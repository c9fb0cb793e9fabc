-- The live runners' supervisor (psycopg).

-- name: try_lock
-- One active runner per read model and database: a session-level advisory lock.
SELECT pg_try_advisory_lock(hashtext(%(lock)s));
