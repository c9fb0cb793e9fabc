-- Projection writes for rm_invoice_events (psycopg). {table}: rm_invoice_events or its rebuild
-- copy. A recorded event never changes: a row written once is final.

-- name: upsert_rm_invoice_events
INSERT INTO {table} (business_id, invoice_id, version, id, type, occurred_at, data)
VALUES (%(business_id)s, %(invoice_id)s, %(version)s, %(id)s, %(type)s, %(occurred_at)s,
    %(data)s)
ON CONFLICT (business_id, invoice_id, version) DO NOTHING;
