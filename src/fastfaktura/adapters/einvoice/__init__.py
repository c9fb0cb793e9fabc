"""E-invoices: the UBL 2.1 (Peppol BIS Billing 3.0) XML of invoices and credit notes."""
