"""Delivering invoices: messages (pure), transports (sandbox, SMTP, SMS gateway) and the worker
that follows the deliveries read model, performs each delivery once and records the outcome."""
