-- Projection writes for rm_business (psycopg, %(name)s parameters). {table} is rm_business,
-- or its fresh copy during a rebuild. The version guard makes replays harmless.

-- name: upsert_rm_business
INSERT INTO {table} (business_id, name, mode, legal_name, email, phone, address, country,
    vat_number, company_id, iban, bic, currency, locale, payment_terms_days, invoice_prefix,
    vat_exempt_293b, late_payment_rate, f_skatt, credit_note_prefix, logo_sha256,
    logo_content_type, logo_width, logo_height, vat_on_debits, operation_category, version,
    created_at, updated_at)
VALUES (%(business_id)s, %(name)s, %(mode)s, %(legal_name)s, %(email)s, %(phone)s, %(address)s,
    %(country)s, %(vat_number)s, %(company_id)s, %(iban)s, %(bic)s, %(currency)s, %(locale)s,
    %(payment_terms_days)s, %(invoice_prefix)s, %(vat_exempt_293b)s, %(late_payment_rate)s,
    %(f_skatt)s, %(credit_note_prefix)s, %(logo_sha256)s, %(logo_content_type)s,
    %(logo_width)s, %(logo_height)s, %(vat_on_debits)s, %(operation_category)s, %(version)s,
    %(created_at)s, %(updated_at)s)
ON CONFLICT (business_id) DO UPDATE SET
    name = EXCLUDED.name, mode = EXCLUDED.mode, legal_name = EXCLUDED.legal_name,
    email = EXCLUDED.email, phone = EXCLUDED.phone, address = EXCLUDED.address,
    country = EXCLUDED.country, vat_number = EXCLUDED.vat_number,
    company_id = EXCLUDED.company_id, iban = EXCLUDED.iban, bic = EXCLUDED.bic,
    currency = EXCLUDED.currency, locale = EXCLUDED.locale,
    payment_terms_days = EXCLUDED.payment_terms_days, invoice_prefix = EXCLUDED.invoice_prefix,
    vat_exempt_293b = EXCLUDED.vat_exempt_293b, late_payment_rate = EXCLUDED.late_payment_rate,
    f_skatt = EXCLUDED.f_skatt, credit_note_prefix = EXCLUDED.credit_note_prefix,
    logo_sha256 = EXCLUDED.logo_sha256, logo_content_type = EXCLUDED.logo_content_type,
    logo_width = EXCLUDED.logo_width, logo_height = EXCLUDED.logo_height,
    vat_on_debits = EXCLUDED.vat_on_debits, operation_category = EXCLUDED.operation_category,
    version = EXCLUDED.version, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at
WHERE {table}.version < EXCLUDED.version;
