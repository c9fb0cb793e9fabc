"""Card payments through Stripe: the adapter (gateway), the webhook inbox, and the worker that
follows the log and the inbox. See docs/payments.md."""
