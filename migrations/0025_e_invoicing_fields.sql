-- E-invoicing fields (API.md "E-invoices and legal checks", "Payment references"):
-- the business's VAT-on-debits option and default operation category; each invoice's terms
-- (operation category, delivery address, tax exchange rate and accounting currency for BT-111)
-- and its payment reference (BT-83); each line and VAT breakdown row's category (BT-151/BT-118).
ALTER TABLE rm_business
    ADD COLUMN vat_on_debits boolean NOT NULL DEFAULT false,
    ADD COLUMN operation_category text NOT NULL DEFAULT 'services';

ALTER TABLE rm_invoices
    ADD COLUMN operation_category text NOT NULL DEFAULT 'services',
    ADD COLUMN delivery_address text,
    -- A decimal string as the API took it (exact; the audit compares it as text).
    ADD COLUMN tax_exchange_rate text,
    ADD COLUMN accounting_currency text,
    ADD COLUMN tax_cents_accounting bigint,
    ADD COLUMN payment_reference text;

-- Invoices already projected: as a rebuild computes them (domain/payment_reference.py and
-- domain/vat_categories.py), so that `audit replay` agrees at once. Their events carry no
-- reference: it is derived from the number, {prefix}{YYYY}-{NNNNN}: the body is the year and
-- the sequence ({YYYY}{NNNNN}); Norway a KID (Luhn digit), Sweden an OCR number (length digit,
-- then Luhn digit), else ISO 11649 RF (MOD 97-10 over the body then "RF" = 2715).
CREATE FUNCTION pg_temp.ff_luhn(digits text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT ((10 - sum(CASE WHEN i % 2 = 1 THEN (d * 2) / 10 + (d * 2) % 10 ELSE d END) % 10)
            % 10)::text
    FROM (SELECT substr(reverse(digits || '0'), i + 1, 1)::int AS d, i
          FROM generate_series(0, length(digits)) AS i) AS positions
$$;

WITH parts AS (
    SELECT business_id, id, upper(seller->>'country') AS country,
           -- lpad would cut a longer sequence: pad only what is shorter than 5 digits.
           m[1] || CASE WHEN length(ltrim(m[2], '0')) >= 5 THEN ltrim(m[2], '0')
                        ELSE lpad(ltrim(m[2], '0'), 5, '0') END AS body
    FROM rm_invoices, regexp_match(number, '([0-9]{4})-([0-9]+)$') AS m
    WHERE payment_reference IS NULL
)
UPDATE rm_invoices SET payment_reference = CASE parts.country
    WHEN 'NO' THEN parts.body || pg_temp.ff_luhn(parts.body)
    WHEN 'SE' THEN parts.body || ((length(parts.body) + 2) % 10)::text
        || pg_temp.ff_luhn(parts.body || ((length(parts.body) + 2) % 10)::text)
    ELSE 'RF' || lpad(((98 - ((parts.body || '271500')::numeric % 97)) % 97)::text, 2, '0')
        || parts.body
    END
FROM parts
WHERE rm_invoices.business_id = parts.business_id AND rm_invoices.id = parts.id;

-- Categories: S above 0 %; at 0 % one category per invoice (no line could state its own yet).
CREATE FUNCTION pg_temp.ff_zero_category(seller jsonb, buyer jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    WITH c AS (
        SELECT upper(nullif(seller->>'country', '')) AS s,
               coalesce(upper(nullif(buyer->>'country', '')), upper(nullif(seller->>'country', '')))
                   AS b
    ), eu AS (
        SELECT ARRAY['AT','BE','BG','CY','CZ','DE','DK','EE','ES','FI','FR','GR','HR','HU','IE',
                     'IT','LT','LU','LV','MT','NL','PL','PT','RO','SE','SI','SK'] AS countries
    )
    SELECT CASE
        WHEN c.b IS NOT NULL AND c.b IS DISTINCT FROM c.s AND coalesce(buyer->>'vat_number', '') <> ''
             AND c.s = ANY (eu.countries) AND c.b = ANY (eu.countries) THEN 'AE'
        WHEN coalesce((seller->>'vat_exempt_293b')::boolean, false) THEN 'E'
        WHEN c.b IS NOT NULL AND c.b IS DISTINCT FROM c.s
             AND (NOT c.b = ANY (eu.countries) OR (c.s IS NOT NULL AND NOT c.s = ANY (eu.countries)))
             THEN 'G'
        ELSE 'Z' END
    FROM c, eu
$$;

CREATE FUNCTION pg_temp.ff_category(rate text, zero_category text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN rate::numeric > 0 THEN '{"vat_category": "S", "vat_exemption_code": null,
                                      "vat_exemption_reason": null}'::jsonb
        WHEN zero_category = 'AE' THEN '{"vat_category": "AE", "vat_exemption_code": "VATEX-EU-AE",
                                        "vat_exemption_reason": "Reverse charge"}'::jsonb
        WHEN zero_category = 'G' THEN '{"vat_category": "G", "vat_exemption_code": "VATEX-EU-G",
                                       "vat_exemption_reason": "Export outside the EU"}'::jsonb
        WHEN zero_category = 'E' THEN '{"vat_category": "E",
            "vat_exemption_code": "VATEX-FR-FRANCHISE",
            "vat_exemption_reason": "TVA non applicable, art. 293 B du CGI"}'::jsonb
        ELSE '{"vat_category": "Z", "vat_exemption_code": null,
               "vat_exemption_reason": null}'::jsonb
    END
$$;

UPDATE rm_invoices SET
    lines = (SELECT jsonb_agg(line || pg_temp.ff_category(line->>'tax_rate',
                                                          pg_temp.ff_zero_category(seller, buyer))
                              ORDER BY position)
             FROM jsonb_array_elements(lines) WITH ORDINALITY AS l(line, position)),
    tax_breakdown = coalesce(
        (SELECT jsonb_agg(item || pg_temp.ff_category(item->>'rate',
                                                      pg_temp.ff_zero_category(seller, buyer))
                          ORDER BY position)
         FROM jsonb_array_elements(tax_breakdown) WITH ORDINALITY AS b(item, position)),
        '[]'::jsonb)
WHERE NOT (lines -> 0 ? 'vat_category');

-- Matching a bank statement's reference to its invoice.
CREATE INDEX rm_invoices_payment_reference ON rm_invoices (business_id, payment_reference);
