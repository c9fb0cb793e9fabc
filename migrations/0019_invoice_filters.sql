-- The list's filters (GET /invoices?client_id=&number=&issue_date_from=...), each on an index
-- led by business_id: every list is one business's. Both keep the list's newest-first order
-- where a filter is an equality, so a page is read straight off the index.
CREATE INDEX rm_invoices_client_order ON rm_invoices (business_id, client_id, created_at DESC, id DESC);
CREATE INDEX rm_invoices_number ON rm_invoices (business_id, number);
-- Date ranges: the range is the index's second column; the list's keys ride along, so the
-- page's keys are found and sorted from the index alone (an index-only scan).
CREATE INDEX rm_invoices_issue_date ON rm_invoices (business_id, issue_date, created_at, id);
CREATE INDEX rm_invoices_due_date ON rm_invoices (business_id, due_date, created_at, id);
