-- Queries on rm_users (asyncpg, $n parameters).

-- name: user_by_email
-- Sign-in: $1 the normalised email (trimmed, lower case, as stored).
SELECT user_id, business_id, email, role, password_hash, password_set_at
FROM rm_users WHERE email = $1;

-- name: user_by_id
-- A session's user: the business it may read is this row's, never anything the browser sent.
SELECT user_id, business_id, email, role, password_hash, password_set_at
FROM rm_users WHERE user_id = $1;
