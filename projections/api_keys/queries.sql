-- Queries on rm_api_keys (asyncpg). Authentication looks a key up by its SHA-256 only.

-- name: authenticate
SELECT k.business_id, k.mode, k.key_prefix
FROM rm_api_keys k
WHERE k.key_hash = $1 AND k.revoked_at IS NULL;

-- name: list_keys
SELECT key_prefix, mode, issued_at, revoked_at FROM rm_api_keys
WHERE business_id = $1 ORDER BY issued_at;

-- name: list_business_keys
-- The API's and /account's list (newest first), with the last use (api_key_usage).
SELECT k.key_prefix, k.name, k.issued_at AS created_at, u.last_used_at, k.revoked_at
FROM rm_api_keys k LEFT JOIN api_key_usage u ON u.key_prefix = k.key_prefix
WHERE k.business_id = $1
ORDER BY k.issued_at DESC, k.key_prefix
LIMIT $2 OFFSET $3;

-- name: count_business_keys
SELECT count(*) FROM rm_api_keys WHERE business_id = $1;

-- name: get_business_key
SELECT k.key_prefix, k.name, k.issued_at AS created_at, u.last_used_at, k.revoked_at
FROM rm_api_keys k LEFT JOIN api_key_usage u ON u.key_prefix = k.key_prefix
WHERE k.business_id = $1 AND k.key_prefix = $2;
