"""`rm_invoices`: one invoice (by id, by public token), a page of them, the overdue sweep's
candidates."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import msgspec
from asyncpg import Pool

from fastfaktura.readmodels.invoice_view import InvoiceResponse
from fastfaktura.readmodels.queries.common import standard_uuid
from fastfaktura.readmodels.sql import statement


def _sql(name: str) -> str:
    return statement("invoices", "queries.sql", name)


class StoredInvoice(msgspec.Struct, frozen=True, kw_only=True):
    """An `rm_invoices` row: the invoice as the API serves it, and what only the server needs
    (its business, the version its stored PDF was rendered from, whether it was ever sent)."""

    view: InvoiceResponse
    business_id: UUID
    version: int
    was_sent: bool

    @classmethod
    def from_row(cls, row: Any, base_url: str) -> StoredInvoice:
        return cls(
            view=InvoiceResponse.from_row(dict(row), base_url),
            business_id=standard_uuid(row["business_id"]),
            version=int(row["version"]),
            was_sent=bool(row["was_sent"]),
        )


class InvoiceKey(msgspec.Struct, frozen=True):
    business_id: UUID
    id: UUID


async def find_invoice(
    pool: Pool, business_id: UUID, invoice_id: UUID, base_url: str
) -> StoredInvoice | None:
    row = await pool.fetchrow(_sql("get_invoice"), business_id, invoice_id)
    return None if row is None else StoredInvoice.from_row(row, base_url)


async def find_invoice_by_token(pool: Pool, token: str, base_url: str) -> StoredInvoice | None:
    """The public page's look-up: the token is the only key, no business is known yet."""
    row = await pool.fetchrow(_sql("get_invoice_by_token"), token)
    return None if row is None else StoredInvoice.from_row(row, base_url)


async def invoice_page(
    pool: Pool,
    business_id: UUID,
    *,
    status: str | None,
    page: int,
    per_page: int,
    base_url: str,
) -> tuple[list[InvoiceResponse], int]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            _sql("list_invoices"), business_id, status, per_page, (page - 1) * per_page
        )
        total = await conn.fetchval(_sql("count_invoices"), business_id, status)
    return [InvoiceResponse.from_row(dict(row), base_url) for row in rows], int(total)


async def overdue_candidates(pool: Pool, today: date) -> list[InvoiceKey]:
    """Sent or opened invoices due before `today`, of every business."""
    rows = await pool.fetch(_sql("overdue_candidates"), today)
    return [InvoiceKey(standard_uuid(row["business_id"]), standard_uuid(row["id"])) for row in rows]
