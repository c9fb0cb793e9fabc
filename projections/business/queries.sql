-- Queries on rm_business (asyncpg, $n parameters). Always scoped by business_id.

-- name: get_business
SELECT * FROM rm_business WHERE business_id = $1;

-- name: businesses_named
-- The CLI's `--business NAME`: every business with exactly that name (several: ambiguous).
SELECT business_id FROM rm_business WHERE name = $1 ORDER BY business_id;
