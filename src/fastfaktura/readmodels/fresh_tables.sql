-- A rebuild's fresh tables (psycopg).

-- name: indexes
-- The live table's indexes, to make again on the fresh one, with the constraint each backs.
SELECT i.relname, pg_get_indexdef(x.indexrelid), x.indisunique, c.contype
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
  AND c.contype IN ('p', 'u')
WHERE x.indrelid = %(table)s::regclass
ORDER BY i.relname;
