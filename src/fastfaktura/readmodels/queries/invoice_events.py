"""`rm_invoice_events`: an invoice's timeline, as `GET /api/v1/invoices/{id}` shows it."""

from __future__ import annotations

from uuid import UUID

import msgspec
from asyncpg import Pool

from fastfaktura.readmodels.invoice_view import EventResponse
from fastfaktura.readmodels.sql import statement


async def invoice_events(pool: Pool, business_id: UUID, invoice_id: UUID) -> list[EventResponse]:
    rows = await pool.fetch(
        statement("invoice_events", "queries.sql", "invoice_events"), business_id, invoice_id
    )
    return [
        EventResponse(
            id=row["id"],
            type=row["type"],
            version=row["version"],
            occurred_at=row["occurred_at"],
            data=msgspec.json.decode(row["data"]),
        )
        for row in rows
    ]
