"""Delivering messages: their text, in the client's language (messages, pure), and the
transports that carry them (SMTP, SMS gateway). The sandbox outbox is the delivery worker's."""
