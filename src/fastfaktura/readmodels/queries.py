"""Read-model queries (asyncpg) for the API, the wait for read-your-writes, and status."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from asyncpg import Pool

from fastfaktura.readmodels.model import ReadModel
from fastfaktura.readmodels.sql import statement


def _tracking(model: ReadModel, name: str) -> str:
    # The table name is a code constant of the read model, never user input.
    return statement("_tracking", "queries.sql", name).format(tracking=model.tracking_table)


async def get_business(pool: Pool, business_id: UUID) -> dict[str, Any] | None:
    row = await pool.fetchrow(statement("business", "queries.sql", "get_business"), business_id)
    return dict(row) if row else None


async def authenticate(pool: Pool, key_hash: str) -> dict[str, Any] | None:
    row = await pool.fetchrow(statement("api_keys", "queries.sql", "authenticate"), key_hash)
    return dict(row) if row else None


async def get_client(pool: Pool, business_id: UUID, client_id: UUID) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        statement("clients", "queries.sql", "get_client"), business_id, client_id
    )
    return dict(row) if row else None


async def list_clients(
    pool: Pool, business_id: UUID, *, q: str | None, archived: bool, page: int, per_page: int
) -> tuple[list[dict[str, Any]], int]:
    args = (business_id, q, archived)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            statement("clients", "queries.sql", "list_clients"),
            *args,
            per_page,
            (page - 1) * per_page,
        )
        total = await conn.fetchval(statement("clients", "queries.sql", "count_clients"), *args)
    return [dict(r) for r in rows], int(total)


# -- tracking ------------------------------------------------------------------------------------


async def wait_for(
    pool: Pool,
    models: Sequence[ReadModel],
    recorded: Sequence[tuple[int, str]],
    timeout: float,
) -> bool:
    """Wait until every read model has applied the events just recorded that concern it.

    Polls the tracking rows (a few ms apart): the library's wait() sleeps 100 ms first.
    Returns False on timeout; the write itself stands either way.
    """
    targets = []
    for model in models:
        topics = set(model.topics)
        wanted = max((nid for nid, topic in recorded if topic in topics), default=None)
        if wanted is not None:
            targets.append((model, wanted))
    if not targets:
        return True
    deadline = time.monotonic() + timeout
    delay = 0.001
    async with pool.acquire() as conn:
        while True:
            pending = []
            for model, wanted in targets:
                position = await conn.fetchval(_tracking(model, "position"))
                if position is None or position < wanted:
                    pending.append((model, wanted))
            targets = pending
            if not targets:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.01)


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    position: int
    head: int
    lag: int


async def status(pool: Pool, models: Sequence[ReadModel]) -> list[ProjectionStatus]:
    result = []
    async with pool.acquire() as conn:
        for model in models:
            row = await conn.fetchrow(_tracking(model, "status"), list(model.topics))
            result.append(
                ProjectionStatus(
                    model.name, int(row["position"] or 0), int(row["head"] or 0), int(row["lag"])
                )
            )
    return result


async def get_invoice(pool: Pool, business_id: UUID, invoice_id: UUID) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        statement("invoices", "queries.sql", "get_invoice"), business_id, invoice_id
    )
    return dict(row) if row else None


async def list_invoices(
    pool: Pool, business_id: UUID, *, status: str | None, page: int, per_page: int
) -> tuple[list[dict[str, Any]], int]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            statement("invoices", "queries.sql", "list_invoices"),
            business_id,
            status,
            per_page,
            (page - 1) * per_page,
        )
        total = await conn.fetchval(
            statement("invoices", "queries.sql", "count_invoices"), business_id, status
        )
    return [dict(r) for r in rows], int(total)
