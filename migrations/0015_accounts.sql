-- Accounts (API.md "API keys and account settings"): API keys get a name and a last use,
-- businesses get users (owners) who sign in to /account, and failed sign-ins are counted.

-- A key's name comes from its `ApiKey.Named` event (null for keys made before names existed).
ALTER TABLE rm_api_keys ADD COLUMN name text;

-- When each key was last used, to the precision of API_KEY_LAST_USED_PRECISION (default 60 s):
-- a process writes a key's row at most once per that interval, never once per request.
-- Operational, not rebuilt from events (using a key is not an event).
CREATE TABLE api_key_usage (
    key_prefix text PRIMARY KEY,
    last_used_at timestamptz NOT NULL
);

-- The users read model: sign-in looks a user up by email before the business is known, and a
-- session by user id. Emails are stored normalised (trimmed, lower case), unique.
CREATE TABLE rm_users (
    user_id uuid PRIMARY KEY,
    business_id uuid NOT NULL,
    email text NOT NULL UNIQUE,
    role text NOT NULL,
    password_hash text,
    password_set_at timestamptz,
    version bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX ON rm_users (business_id);
CREATE TABLE users_tracking (application_name text PRIMARY KEY, notification_id bigint);

-- Failed sign-ins per subject (`email:<normalised email>`, `address:<client address>`), shared
-- by every server process: past a threshold, sign-in is refused until `blocked_until`.
-- UNLOGGED like the rate-limit buckets: losing it in a crash only forgets some failures.
CREATE UNLOGGED TABLE login_failures (
    subject text PRIMARY KEY,
    failures integer NOT NULL,
    last_failed_at timestamptz NOT NULL,
    blocked_until timestamptz
);
