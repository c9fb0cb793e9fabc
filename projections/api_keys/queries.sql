-- Queries on rm_api_keys (asyncpg). Authentication looks a key up by its SHA-256 only.

-- name: authenticate
SELECT k.business_id, k.mode, k.key_prefix
FROM rm_api_keys k
WHERE k.key_hash = $1 AND k.revoked_at IS NULL;
