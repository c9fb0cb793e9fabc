-- Business settings behind country legal mentions on invoices (see docs/api.md, Business):
-- France: VAT exemption under art. 293 B du CGI, a contractual late-payment rate;
-- Sweden: approved for F-tax (Godkänd för F-skatt).
ALTER TABLE rm_business
    ADD COLUMN vat_exempt_293b boolean NOT NULL DEFAULT false,
    ADD COLUMN late_payment_rate numeric,
    ADD COLUMN f_skatt boolean NOT NULL DEFAULT false;
