"""Adapters: the technical parts that talk to the outside world (PostgreSQL, SMTP and SMS,
Stripe, PDF rendering, HTML pages). They never import the API, the policies or the CLI."""
