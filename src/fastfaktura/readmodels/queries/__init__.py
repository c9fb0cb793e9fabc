"""The query gateway of the read models: the only code that runs SQL against them (asyncpg).

One module per store, each answering typed msgspec structs, never rows: `business`,
`api_keys`, `clients`, `invoices` (with the invoice's event list, `rm_invoice_events`),
`deliveries`, `users`, `credit_notes`, and `positions` (the tracking rows: read-your-writes
and status). Their statements are in projections/<read model>/queries.sql.
"""
