-- Projection writes for rm_users (psycopg, %(name)s parameters). {table} is rm_users, or its
-- fresh copy during a rebuild. The version guard makes replays harmless.

-- name: upsert_rm_users
INSERT INTO {table} (user_id, business_id, email, role, password_hash, password_set_at,
    version, created_at, updated_at)
VALUES (%(user_id)s, %(business_id)s, %(email)s, %(role)s, %(password_hash)s,
    %(password_set_at)s, %(version)s, %(created_at)s, %(updated_at)s)
ON CONFLICT (user_id) DO UPDATE SET
    business_id = EXCLUDED.business_id, email = EXCLUDED.email, role = EXCLUDED.role,
    password_hash = EXCLUDED.password_hash, password_set_at = EXCLUDED.password_set_at,
    version = EXCLUDED.version, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at
WHERE {table}.version < EXCLUDED.version;
