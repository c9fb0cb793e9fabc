"""The SQL of the Stripe webhook inbox and of the payments worker's retry bookkeeping
(stripe_inbox.sql, beside this module): operational tables, not read models. The webhook endpoint,
the payments worker and the `payments` CLI commands run it."""

from __future__ import annotations

from fastfaktura.adapters.named_sql import local_statement


def inbox_sql(name: str) -> str:
    return local_statement(__file__, "stripe_inbox.sql", name)
