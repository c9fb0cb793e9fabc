"""Adapters: everything that talks to the outside world (database, later PDF, mail, Stripe)."""
