-- Failed sign-ins (table login_failures, migration 0015). Subjects: `email:<email>`,
-- `address:<client address>`.

-- name: blocked_for
-- Seconds until every subject in $1 (text[]) may try again; 0 when none is blocked.
SELECT coalesce(ceil(max(extract(epoch FROM blocked_until - now()))), 0)::integer
FROM login_failures WHERE subject = ANY($1) AND blocked_until > now();

-- name: record_failure
-- One more failure of $1. $2 failures allowed before a block; $3 the first block (seconds),
-- doubled by every further failure up to $4 seconds; failures older than $4 are forgotten.
INSERT INTO login_failures AS f (subject, failures, last_failed_at, blocked_until)
VALUES ($1, 1, now(), CASE WHEN $2 <= 1 THEN now() + make_interval(secs => $3) END)
ON CONFLICT (subject) DO UPDATE SET (failures, last_failed_at, blocked_until) = (
    SELECT n, now(),
        CASE WHEN n >= $2
            THEN now() + make_interval(secs => least($4, $3 * power(2, n - $2)))
        END
    FROM (
        SELECT CASE WHEN f.last_failed_at < now() - make_interval(secs => $4) THEN 1
            ELSE f.failures + 1 END AS n
    ) AS counted
);

-- name: forget
DELETE FROM login_failures WHERE subject = $1;

-- name: purge
-- Rows whose failures are forgotten anyway ($1 seconds, the window).
DELETE FROM login_failures
WHERE last_failed_at < now() - make_interval(secs => $1)
    AND (blocked_until IS NULL OR blocked_until < now());
