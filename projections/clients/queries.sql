-- Queries on rm_clients (asyncpg). Every query filters by business_id ($1).

-- name: get_client
SELECT * FROM rm_clients WHERE business_id = $1 AND id = $2;

-- name: list_clients
-- $2: substring to search in name, email or phone (NULL: all); $3: include archived;
-- $4/$5: limit/offset. Sorted by name, then id so that pages are stable.
SELECT *
FROM rm_clients
WHERE business_id = $1
  AND ($3 OR archived_at IS NULL)
  AND ($2::text IS NULL
       OR strpos(lower(name), lower($2)) > 0
       OR strpos(lower(coalesce(email, '')), lower($2)) > 0
       OR strpos(lower(coalesce(phone, '')), lower($2)) > 0)
ORDER BY lower(name), id
LIMIT $4 OFFSET $5;

-- name: count_clients
SELECT count(*)
FROM rm_clients
WHERE business_id = $1
  AND ($3 OR archived_at IS NULL)
  AND ($2::text IS NULL
       OR strpos(lower(name), lower($2)) > 0
       OR strpos(lower(coalesce(email, '')), lower($2)) > 0
       OR strpos(lower(coalesce(phone, '')), lower($2)) > 0);
