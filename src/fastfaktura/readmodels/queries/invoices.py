"""`rm_invoices`: one invoice (by id, by public token), a filtered page of them, every
matching one in batches (the export), the overdue sweep's candidates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any
from uuid import UUID

import msgspec
from asyncpg import Pool

from fastfaktura.readmodels.invoice_view import InvoiceResponse
from fastfaktura.readmodels.queries.common import ScopedRead, standard_uuid
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


# GET /api/v1/invoices/{id}'s answer as the projection encoded it (bytes; public_url without
# its base URL), by business ($1) and invoice ($2); NULL when there is none (another
# business's, or not yet encoded).
INVOICE_RESPONSE = ScopedRead("invoices", "get_invoice_response")


async def find_invoice_by_token(pool: Pool, token: str, base_url: str) -> StoredInvoice | None:
    """The public page's look-up: the token is the only key, no business is known yet."""
    row = await pool.fetchrow(_sql("get_invoice_by_token"), token)
    return None if row is None else StoredInvoice.from_row(row, base_url)


class InvoiceFilters(msgspec.Struct, frozen=True, kw_only=True):
    """The list's filters (API.md "Filters"), already checked; None: not filtered on."""

    status: str | None = None
    client_id: UUID | None = None
    number: str | None = None
    q: str | None = None
    issue_date_from: date | None = None
    issue_date_to: date | None = None
    due_date_from: date | None = None
    due_date_to: date | None = None


class FilteredSql(msgspec.Struct, frozen=True):
    """`{where}` of the filtered statements, and its parameters ($1 is the business)."""

    where: str
    args: list[Any]
    has_range: bool = False


def filtered_where(business_id: UUID, filters: InvoiceFilters) -> FilteredSql:
    """Only the filters given become conditions: each combination gets a plan of its own."""
    conditions = ["business_id = $1"]
    args: list[Any] = [business_id]
    for name in InvoiceFilters.__struct_fields__:
        value = getattr(filters, name)
        if value is not None:
            args.append(value)
            conditions.append(_sql(f"filter_{name}").format(n=f"${len(args)}"))
    ranges = (
        filters.issue_date_from,
        filters.issue_date_to,
        filters.due_date_from,
        filters.due_date_to,
    )
    has_range = any(bound is not None for bound in ranges)
    return FilteredSql("\n  AND ".join(conditions), args, has_range)


def page_statements(where: FilteredSql, *, page: int, per_page: int) -> tuple[str, str, list[Any]]:
    """The page's statement, the count's, and the page's parameters (the count takes the
    first `len(where.args)`)."""
    n = len(where.args)
    page_sql = _sql(
        "filtered_invoices_in_range" if where.has_range else "filtered_invoices"
    ).format(where=where.where, limit=f"${n + 1}", offset=f"${n + 2}")
    count_sql = _sql("count_filtered_invoices").format(where=where.where)
    return page_sql, count_sql, [*where.args, per_page, (page - 1) * per_page]


async def invoice_page(
    pool: Pool,
    business_id: UUID,
    filters: InvoiceFilters,
    *,
    page: int,
    per_page: int,
    base_url: str,
) -> tuple[list[InvoiceResponse], int]:
    where = filtered_where(business_id, filters)
    page_sql, count_sql, args = page_statements(where, page=page, per_page=per_page)
    async with pool.acquire() as conn:
        rows = await conn.fetch(page_sql, *args)
        total = await conn.fetchval(count_sql, *where.args)
    return [InvoiceResponse.from_row(dict(row), base_url) for row in rows], int(total)


async def export_batches(
    pool: Pool, business_id: UUID, filters: InvoiceFilters, *, batch_size: int, base_url: str
) -> AsyncIterator[list[InvoiceResponse]]:
    """Every matching invoice, newest first, a batch at a time (keyset pagination: each batch
    is one short statement on the list's index, so no connection is held between batches and
    the whole answer is never in memory)."""
    base = filtered_where(business_id, filters)
    after: tuple[Any, Any] | None = None
    while True:
        where, args = base.where, list(base.args)
        if after is not None:
            args.extend(after)
            key = _sql("after_row").format(n=f"${len(args) - 1}", m=f"${len(args)}")
            where = f"{where}\n  AND {key}"
        args.append(batch_size)
        sql = _sql("export_batch").format(where=where, limit=f"${len(args)}")
        rows = await pool.fetch(sql, *args)
        if rows:
            yield [InvoiceResponse.from_row(dict(row), base_url) for row in rows]
        if len(rows) < batch_size:
            return
        after = (rows[-1]["created_at"], rows[-1]["id"])


async def overdue_candidates(pool: Pool, today: date) -> list[InvoiceKey]:
    """Sent or opened invoices due before `today`, of every business."""
    rows = await pool.fetch(_sql("overdue_candidates"), today)
    return [InvoiceKey(standard_uuid(row["business_id"]), standard_uuid(row["id"])) for row in rows]
