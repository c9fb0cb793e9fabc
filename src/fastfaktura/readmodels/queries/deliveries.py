"""`rm_deliveries`: the delivery worker's to-do list (with its own bookkeeping,
`delivery_attempts`), and the statuses the send endpoint waits on."""

from __future__ import annotations

from typing import Any
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
    invoice_id: UUID  # a credit note's: the invoice it credits
    id: UUID
    channel: str
    recipient: str | None
    kind: str
    attempts: int
    last_error: str | None
    done: bool
    # Set for a credit note's delivery (from rm_credit_notes), None for an invoice's.
    credit_note_id: UUID | None = None


async def due_deliveries(pool: Pool, limit: int) -> list[DueDelivery]:
    """Oldest decision first, every business."""
    return [_due(row) for row in await pool.fetch(_sql("due_deliveries"), limit)]


async def due_credit_note_deliveries(pool: Pool, limit: int) -> list[DueDelivery]:
    """The credit notes' (their deliveries are in rm_credit_notes), oldest decision first."""
    rows = await pool.fetch(
        statement("credit_notes", "queries.sql", "due_credit_note_deliveries"), limit
    )
    return [
        msgspec.structs.replace(_due(row), credit_note_id=standard_uuid(row["credit_note_id"]))
        for row in rows
    ]


async def credit_note_delivery_statuses(
    pool: Pool, business_id: UUID, credit_note_id: UUID
) -> dict[str, str]:
    """Each of the credit note's deliveries: its id (as text) -> its status."""
    rows = await pool.fetch(
        statement("credit_notes", "queries.sql", "credit_note_delivery_statuses"),
        business_id,
        credit_note_id,
    )
    return {str(row["id"]): row["status"] for row in rows}


def _due(row: Any) -> DueDelivery:
    return DueDelivery(
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


async def delivery_statuses(pool: Pool, business_id: UUID, invoice_id: UUID) -> dict[str, str]:
    """Each of the invoice's deliveries: its id (as text) -> its status."""
    rows = await pool.fetch(_sql("delivery_statuses"), business_id, invoice_id)
    return {str(row["id"]): row["status"] for row in rows}
