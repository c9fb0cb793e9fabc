-- Idempotency-Key store (asyncpg). Not a read model: written by the API, scoped by business.

-- name: claim
-- Take the key for this request, or retake it when the last use is older than 24 hours.
INSERT INTO idempotency_keys (business_id, key, fingerprint) VALUES ($1, $2, $3)
ON CONFLICT (business_id, key) DO UPDATE
    SET fingerprint = EXCLUDED.fingerprint, created_at = now(),
        response_status = NULL, response_headers = NULL, response_body = NULL
    WHERE idempotency_keys.created_at < now() - interval '24 hours'
RETURNING key;

-- name: find
SELECT fingerprint, response_status, response_headers, response_body
FROM idempotency_keys WHERE business_id = $1 AND key = $2;

-- name: complete
UPDATE idempotency_keys SET response_status = $3, response_headers = $4, response_body = $5
WHERE business_id = $1 AND key = $2;

-- name: release
DELETE FROM idempotency_keys WHERE business_id = $1 AND key = $2 AND response_status IS NULL;

-- name: purge
DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours';
