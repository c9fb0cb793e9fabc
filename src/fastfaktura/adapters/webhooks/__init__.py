"""Outbound webhooks: where they may go (addresses.py), their endpoints and delivery log in
PostgreSQL (store.py), and the HTTP request that delivers one (sender.py)."""
