-- Projection writes for rm_api_keys (psycopg). {table}: rm_api_keys or its rebuild copy.

-- name: upsert_rm_api_keys
-- A revoked key's row also notifies `fastfaktura_api_key_revoked` (payload: its hash), at
-- commit: every API process drops the key from its cache (api/key_cache.py) at once.
WITH written AS (
    INSERT INTO {table} (key_hash, business_id, key_prefix, mode, issued_at, revoked_at, name,
        version)
    VALUES (%(key_hash)s, %(business_id)s, %(key_prefix)s, %(mode)s, %(issued_at)s,
        %(revoked_at)s, %(name)s, %(version)s)
    ON CONFLICT (key_hash) DO UPDATE SET
        revoked_at = EXCLUDED.revoked_at, name = EXCLUDED.name, version = EXCLUDED.version
    WHERE {table}.version < EXCLUDED.version
    RETURNING key_hash, revoked_at
)
SELECT pg_notify('fastfaktura_api_key_revoked', key_hash) FROM written
WHERE revoked_at IS NOT NULL;
