-- Business logos (business_logos, migration 0026; asyncpg). Not a read model: the pixels of
-- every logo a business uploaded, by digest; rm_business.logo_sha256 says which is current.

-- name: store_logo
-- The same image twice is one row (its digest is the key): the first stays.
INSERT INTO business_logos (business_id, sha256, content_type, content, width, height)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (business_id, sha256) DO NOTHING;

-- name: logo
-- The pixels of the logo rm_business names (its digest comes through the query gateway).
SELECT content, content_type FROM business_logos WHERE business_id = $1 AND sha256 = $2;
