"""Delivering messages: their text, in the client's language (messages, pure), and the
transports that carry them (sandbox outbox, SMTP, SMS gateway)."""
