-- Rate limits (API.md "Limits and availability", docs/operations.md "Rate limits").

-- One token bucket per API key (`key:<key prefix>`) and per client address on the public pages
-- (`page:<address>`), shared by every server process on this database. UNLOGGED: a bucket is
-- worth nothing after a crash (a lost bucket is a full one), so its writes skip the WAL.
-- A row whose bucket has refilled is the same as no row: the API processes purge those.
CREATE UNLOGGED TABLE rate_limit_buckets (
    bucket text PRIMARY KEY,
    tokens double precision NOT NULL,   -- whole and partial tokens left at updated_at
    updated_at timestamptz NOT NULL,
    allowed boolean NOT NULL            -- whether the last request took a token
);
-- No index on updated_at: every request updates its bucket's row, and without an index on the
-- columns it changes that update is HOT (no index write). The purge scans the table once a
-- minute; it holds a row per key and address seen in the last minute.
