-- Projection writes for rm_invoices (psycopg). {table}: rm_invoices or its rebuild copy.
-- lines, tax_breakdown, seller and buyer are jsonb (decimals kept as exact strings).

-- name: upsert_rm_invoices
INSERT INTO {table} (business_id, id, number, client_id, currency, status, issue_date, due_date,
    notes, subtotal_cents, tax_cents, total_cents, amount_paid_cents, amount_credited_cents,
    amount_due_cents, lines,
    tax_breakdown, seller, buyer, public_token, card_payment, payment_intent_id, was_sent,
    operation_category, delivery_address, tax_exchange_rate, accounting_currency,
    tax_cents_accounting, payment_reference,
    version, created_at, updated_at)
VALUES (%(business_id)s, %(id)s, %(number)s, %(client_id)s, %(currency)s, %(status)s,
    %(issue_date)s, %(due_date)s, %(notes)s, %(subtotal_cents)s, %(tax_cents)s, %(total_cents)s,
    %(amount_paid_cents)s, %(amount_credited_cents)s, %(amount_due_cents)s, %(lines)s, %(tax_breakdown)s, %(seller)s,
    %(buyer)s, %(public_token)s, %(card_payment)s, %(payment_intent_id)s, %(was_sent)s,
    %(operation_category)s, %(delivery_address)s, %(tax_exchange_rate)s,
    %(accounting_currency)s, %(tax_cents_accounting)s, %(payment_reference)s,
    %(version)s, %(created_at)s, %(updated_at)s)
ON CONFLICT (business_id, id) DO UPDATE SET
    status = EXCLUDED.status, due_date = EXCLUDED.due_date,
    -- A draft's edit (`changed`) changes these; once sent they never change again.
    client_id = EXCLUDED.client_id, currency = EXCLUDED.currency, notes = EXCLUDED.notes,
    subtotal_cents = EXCLUDED.subtotal_cents, tax_cents = EXCLUDED.tax_cents,
    total_cents = EXCLUDED.total_cents, lines = EXCLUDED.lines,
    tax_breakdown = EXCLUDED.tax_breakdown, seller = EXCLUDED.seller, buyer = EXCLUDED.buyer,
    amount_paid_cents = EXCLUDED.amount_paid_cents, amount_due_cents = EXCLUDED.amount_due_cents,
    amount_credited_cents = EXCLUDED.amount_credited_cents,
    card_payment = EXCLUDED.card_payment, payment_intent_id = EXCLUDED.payment_intent_id,
    was_sent = EXCLUDED.was_sent,
    -- A draft's edit changes the terms; the payment reference never changes (0025).
    operation_category = EXCLUDED.operation_category,
    delivery_address = EXCLUDED.delivery_address,
    tax_exchange_rate = EXCLUDED.tax_exchange_rate,
    accounting_currency = EXCLUDED.accounting_currency,
    tax_cents_accounting = EXCLUDED.tax_cents_accounting,
    version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
WHERE {table}.version < EXCLUDED.version;

-- name: upsert_rm_invoice_responses
-- The encoded answer of GET /api/v1/invoices/ID (issue 12), public_url without its base URL.
INSERT INTO {table} (business_id, id, response, version)
VALUES (%(business_id)s, %(id)s, %(response)s, %(version)s)
ON CONFLICT (business_id, id) DO UPDATE SET
    response = EXCLUDED.response, version = EXCLUDED.version
WHERE {table}.version < EXCLUDED.version;
