"""`rm_deliveries`: the delivery worker's to-do list (with its own bookkeeping,
`delivery_attempts`), and the statuses the send endpoint waits on."""

from __future__ import annotations

from uuid import UUID

import msgspec
from asyncpg import Pool

from fastfaktura.readmodels.queries.common import standard_uuid
from fastfaktura.readmodels.sql import statement


def _sql(name: str) -> str:
    return statement("deliveries", "queries.sql", name)


class DueDelivery(msgspec.Struct, frozen=True, kw_only=True):
    """A pending delivery whose next attempt is due, and how its attempts went so far."""

    business_id: UUID
    invoice_id: UUID
    id: UUID
    channel: str
    recipient: str | None
    kind: str
    attempts: int
    last_error: str | None
    done: bool


async def due_deliveries(pool: Pool, limit: int) -> list[DueDelivery]:
    """Oldest decision first, every business."""
    return [
        DueDelivery(
            business_id=standard_uuid(row["business_id"]),
            invoice_id=standard_uuid(row["invoice_id"]),
            id=standard_uuid(row["id"]),
            channel=row["channel"],
            recipient=row["recipient"],
            kind=row["kind"],
            attempts=row["attempts"],
            last_error=row["last_error"],
            done=row["done"],
        )
        for row in await pool.fetch(_sql("due_deliveries"), limit)
    ]


async def delivery_statuses(pool: Pool, business_id: UUID, invoice_id: UUID) -> dict[str, str]:
    """Each of the invoice's deliveries: its id (as text) -> its status."""
    rows = await pool.fetch(_sql("delivery_statuses"), business_id, invoice_id)
    return {str(row["id"]): row["status"] for row in rows}
