-- Issue 12: GET /api/v1/invoices/{id} from one row that holds the whole answer, encoded by the
-- invoices projection (read model `invoices`, projections/invoices/README.md). Its public_url
-- is stored without the service's base URL, which the API puts in front when it answers.
-- Invoices recorded before this migration have no row until their next event or
-- `fastfaktura projections rebuild invoices`; the API composes their answer meanwhile.
CREATE TABLE rm_invoice_responses (
    business_id uuid NOT NULL,
    id uuid NOT NULL,
    response bytea NOT NULL,
    version bigint NOT NULL,
    PRIMARY KEY (business_id, id)
);
-- Audit scans read models in aggregate-id order (as migration 0004 for rm_invoices).
CREATE INDEX ON rm_invoice_responses (id);
