-- Projection writes for rm_credit_notes (psycopg). {table}: rm_credit_notes or its rebuild copy.
-- lines, tax_breakdown, seller and buyer are jsonb (decimals kept as exact strings).

-- name: upsert_rm_credit_notes
INSERT INTO {table} (business_id, id, number, invoice_id, invoice_number, invoice_issue_date,
    client_id, currency, issue_date, reason, lines, tax_breakdown, subtotal_cents, tax_cents,
    total_cents, refund_due_cents, refunded_cents, seller, buyer, public_token, deliveries,
    version, created_at, updated_at)
VALUES (%(business_id)s, %(id)s, %(number)s, %(invoice_id)s, %(invoice_number)s,
    %(invoice_issue_date)s, %(client_id)s, %(currency)s, %(issue_date)s, %(reason)s, %(lines)s,
    %(tax_breakdown)s, %(subtotal_cents)s, %(tax_cents)s, %(total_cents)s, %(refund_due_cents)s,
    %(refunded_cents)s, %(seller)s, %(buyer)s, %(public_token)s, %(deliveries)s, %(version)s,
    %(created_at)s, %(updated_at)s)
ON CONFLICT (business_id, id) DO UPDATE SET
    refund_due_cents = EXCLUDED.refund_due_cents, refunded_cents = EXCLUDED.refunded_cents,
    deliveries = EXCLUDED.deliveries, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
WHERE {table}.version < EXCLUDED.version;
