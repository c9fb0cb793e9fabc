-- Queries on rm_api_keys (asyncpg). Authentication looks a key up by its SHA-256 only.

-- name: authenticate
SELECT k.business_id, k.mode, k.key_prefix
FROM rm_api_keys k
WHERE k.key_hash = $1 AND k.revoked_at IS NULL;

-- name: list_keys
SELECT key_prefix, mode, issued_at, revoked_at FROM rm_api_keys
WHERE business_id = $1 ORDER BY issued_at;
