-- Token buckets (asyncpg). Not a read model: written by the API on each limited request.
-- $2 is the rate (tokens per second), $3 the bucket's size (the burst); a request takes a token
-- when there is a whole one, and a new bucket starts full. One statement per request: the row
-- lock queues concurrent takes on a bucket (from any process), and now() is the database's
-- clock, the same for every process. A take whose transaction began before the last one counts
-- as arriving with it (greatest(...)): time never runs backwards for a bucket.

-- name: take
-- $1 the bucket: `page:<client address>`.
INSERT INTO rate_limit_buckets AS b (bucket, tokens, updated_at, allowed)
VALUES ($1, $3::double precision - 1, now(), true)
ON CONFLICT (bucket) DO UPDATE SET (tokens, allowed, updated_at) = (
    SELECT refilled - CASE WHEN refilled >= 1 THEN 1 ELSE 0 END, refilled >= 1,
        greatest(b.updated_at, now())
    FROM (
        SELECT least($3, b.tokens + $2 * greatest(0, extract(epoch FROM now() - b.updated_at)))
            AS refilled
    ) AS refill
)
RETURNING b.tokens, b.allowed;

-- name: authenticate_and_take
-- The API key's business (as api_keys/authenticate) and a token from the key's bucket
-- (`key:<key prefix>`), in one round trip. $1 the key's hash. An unknown or revoked key takes
-- nothing and leaves no row: only issued keys have buckets. `answer`: NULL, or a scalar
-- subquery of the key's business (`api_key.business_id`) taking $4... (put in the placeholder
-- by api/ratelimit.py authenticate_and_take_sql): the request's read in the same round trip,
-- run only when a token was taken.
WITH api_key AS MATERIALIZED (
    SELECT k.business_id, k.mode, k.key_prefix
    FROM rm_api_keys k
    WHERE k.key_hash = $1 AND k.revoked_at IS NULL
), taken AS (
    INSERT INTO rate_limit_buckets AS b (bucket, tokens, updated_at, allowed)
    SELECT 'key:' || key_prefix, $3::double precision - 1, now(), true FROM api_key
    ON CONFLICT (bucket) DO UPDATE SET (tokens, allowed, updated_at) = (
        SELECT refilled - CASE WHEN refilled >= 1 THEN 1 ELSE 0 END, refilled >= 1,
            greatest(b.updated_at, now())
        FROM (
            SELECT least($3, b.tokens + $2 * greatest(0, extract(epoch FROM now() - b.updated_at)))
                AS refilled
        ) AS refill
    )
    RETURNING b.tokens, b.allowed
)
SELECT api_key.business_id, api_key.mode, taken.tokens, taken.allowed,
    CASE WHEN taken.allowed THEN {read} END AS answer
FROM api_key CROSS JOIN taken;

-- name: purge
-- $1 seconds, at least the longest refill: such a bucket is full again, the same as no row.
DELETE FROM rate_limit_buckets WHERE updated_at < now() - make_interval(secs => $1);
