-- Projection writes for rm_clients (psycopg). {table}: rm_clients or its rebuild copy.

-- name: upsert_rm_clients
INSERT INTO {table} (business_id, id, name, email, phone, address, country, locale,
    external_id, tags, vat_number, company_id, archived_at, version, created_at, updated_at)
VALUES (%(business_id)s, %(id)s, %(name)s, %(email)s, %(phone)s, %(address)s, %(country)s,
    %(locale)s, %(external_id)s, %(tags)s, %(vat_number)s, %(company_id)s, %(archived_at)s,
    %(version)s, %(created_at)s, %(updated_at)s)
ON CONFLICT (business_id, id) DO UPDATE SET
    name = EXCLUDED.name, email = EXCLUDED.email, phone = EXCLUDED.phone,
    address = EXCLUDED.address, country = EXCLUDED.country, locale = EXCLUDED.locale,
    external_id = EXCLUDED.external_id, tags = EXCLUDED.tags, vat_number = EXCLUDED.vat_number,
    company_id = EXCLUDED.company_id, archived_at = EXCLUDED.archived_at,
    version = EXCLUDED.version, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at
WHERE {table}.version < EXCLUDED.version;
