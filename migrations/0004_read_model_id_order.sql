-- Audit and rebuild scan read models in aggregate-id order (merge-joined with the event
-- store's primary-key order); these indexes make that an index scan, not a sort.
CREATE INDEX ON rm_clients (id);
CREATE INDEX ON rm_invoices (id);
