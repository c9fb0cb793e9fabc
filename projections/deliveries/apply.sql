-- Projection writes for rm_deliveries (psycopg). {table}: rm_deliveries or its rebuild copy.

-- name: upsert_rm_deliveries
INSERT INTO {table} (business_id, invoice_id, id, channel, recipient, kind, status, error, version)
VALUES (%(business_id)s, %(invoice_id)s, %(id)s, %(channel)s, %(recipient)s, %(kind)s,
    %(status)s, %(error)s, %(version)s)
ON CONFLICT (business_id, invoice_id, id) DO UPDATE SET
    status = EXCLUDED.status, error = EXCLUDED.error, version = EXCLUDED.version
WHERE {table}.version < EXCLUDED.version;
