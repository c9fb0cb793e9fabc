-- Queries on rm_business (asyncpg, $n parameters). Always scoped by business_id.

-- name: get_business
SELECT * FROM rm_business WHERE business_id = $1;
