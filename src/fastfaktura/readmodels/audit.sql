-- The audit's reads of a read model's table (psycopg). {table}, {order} and {ordering} are
-- code constants of the read model (identifiers), never user input. %(business_id)s NULL:
-- every business.

-- name: rows_in_id_order
-- One partition [low, high) of the aggregate ids (high NULL: to the end), in the order the
-- ordered scan folds the aggregates: the merge join reads both side by side.
SELECT * FROM {table}
WHERE {order} >= %(low)s AND (%(high)s::uuid IS NULL OR {order} < %(high)s)
  AND (%(business_id)s::uuid IS NULL OR business_id = %(business_id)s)
ORDER BY {ordering};

-- name: all_rows
-- A model keyed by something else than the aggregate id (API keys), compared in memory.
SELECT * FROM {table} WHERE %(business_id)s::uuid IS NULL OR business_id = %(business_id)s;
