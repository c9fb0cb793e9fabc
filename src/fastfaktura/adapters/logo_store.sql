-- Business logos (business_logos, migration 0026; asyncpg). Not a read model: the pixels of
-- every logo a business uploaded, by digest; rm_business.logo_sha256 says which is current.

-- name: store_logo
-- The same image twice is one row (its digest is the key): the first stays.
INSERT INTO business_logos (business_id, sha256, content_type, content, width, height)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (business_id, sha256) DO NOTHING;

-- name: branding
-- The business's mode and its current logo (none: NULL content), in one read.
SELECT b.mode, l.content, l.content_type
FROM rm_business b
LEFT JOIN business_logos l ON l.business_id = b.business_id AND l.sha256 = b.logo_sha256
WHERE b.business_id = $1;
