"""The overdue sweep: a policy that records `overdue` for every sent or opened invoice past due.

The invoices read model says which invoices to look at; each aggregate decides for itself
(mark_overdue is a no-op unless the invoice is still sent/opened and past due), so two
sweeps, or a sweep racing a payment, record at most one `overdue`.
"""

from __future__ import annotations

from datetime import date

import anyio.to_thread
import asyncpg
import structlog

from fastfaktura.application import Invoicing
from fastfaktura.readmodels.queries.invoices import overdue_candidates

log = structlog.get_logger(__name__)


async def sweep(pool: asyncpg.Pool, app: Invoicing, today: date) -> int:
    """Returns how many invoices became overdue."""
    marked = 0
    for invoice in await overdue_candidates(pool, today):
        written = await anyio.to_thread.run_sync(
            app.mark_overdue, invoice.business_id, invoice.id, today
        )
        if written.recorded:
            marked += 1
    if marked:
        log.info("invoices marked overdue", count=marked, today=today.isoformat())
    return marked
