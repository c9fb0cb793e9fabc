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
from fastfaktura.readmodels.queries import standard_uuid
from fastfaktura.readmodels.sql import statement

log = structlog.get_logger(__name__)


async def sweep(pool: asyncpg.Pool, app: Invoicing, today: date) -> int:
    """Returns how many invoices became overdue."""
    candidates = await pool.fetch(statement("invoices", "queries.sql", "overdue_candidates"), today)
    marked = 0
    for row in candidates:
        business_id = standard_uuid(row["business_id"])
        invoice_id = standard_uuid(row["id"])
        written = await anyio.to_thread.run_sync(app.mark_overdue, business_id, invoice_id, today)
        if written.recorded:
            marked += 1
    if marked:
        log.info("invoices marked overdue", count=marked, today=today.isoformat())
    return marked
