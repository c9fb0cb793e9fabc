"""Read-model queries (asyncpg) for the API, the wait for read-your-writes, and status."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import structlog
from asyncpg import Pool

from fastfaktura.readmodels.invoice_view import InvoiceResponse
from fastfaktura.readmodels.model import ReadModel
from fastfaktura.readmodels.sql import local_statement, statement

log = structlog.get_logger(__name__)


def standard_uuid(value: Any) -> UUID:
    """asyncpg's UUID type -> the standard one (what events and aggregates must carry)."""
    return UUID(bytes=value.bytes)


def _tracking(model: ReadModel, name: str) -> str:
    # The table name is a code constant of the read model, never user input.
    return local_statement(__file__, "tracking/queries.sql", name).format(
        tracking=model.tracking_table
    )


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


def targets(models: Sequence[ReadModel], recorded: Sequence[tuple[int, str]]) -> dict[str, int]:
    """Per read model, the last just-recorded event that concerns it (by topic)."""
    wanted: dict[str, int] = {}
    for model in models:
        topics = set(model.topics)
        last = max((nid for nid, topic in recorded if topic in topics), default=None)
        if last is not None:
            wanted[model.name] = last
    return wanted


class PositionWatcher:
    """Lets writers wait until read models have applied their events (read-your-writes).

    One polling task per process reads every tracking row in one query, about every
    millisecond and only while someone waits, then wakes the waiters it satisfies; however
    many requests wait, the database sees one small query at a time. (The library's wait()
    first sleeps 100 ms.)
    """

    def __init__(self, pool: Pool, models: Sequence[ReadModel], interval: float = 0.001) -> None:
        self._pool = pool
        self._models = list(models)
        self._interval = interval
        self._sql = " UNION ALL ".join(
            f"SELECT '{m.name}', ({_tracking(m, 'position').rstrip(';')})" for m in self._models
        )
        self._waiters: list[tuple[dict[str, int], asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def wait(self, recorded: Sequence[tuple[int, str]], timeout: float) -> bool:
        """True once every affected read model shows the events; False after `timeout`."""
        wanted = targets(self._models, recorded)
        if not wanted:
            return True
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((wanted, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll())
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._waiters = [w for w in self._waiters if w[1] is not future]

    async def _poll(self) -> None:
        while self._waiters:
            try:
                rows = await self._pool.fetch(self._sql)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("tracking positions unreadable; retrying", error=str(exc))
                await asyncio.sleep(0.1)
                continue
            positions = {name: position or 0 for name, position in rows}
            for wanted, future in self._waiters:
                if not future.done() and all(positions.get(n, 0) >= p for n, p in wanted.items()):
                    future.set_result(None)
            self._waiters = [w for w in self._waiters if not w[1].done()]
            if self._waiters:
                await asyncio.sleep(self._interval)


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


class StoredInvoice(msgspec.Struct, frozen=True, kw_only=True):
    """An `rm_invoices` row: the invoice as the API serves it, and what only the server needs
    (the version its stored PDF was rendered from, whether it was ever sent)."""

    view: InvoiceResponse
    version: int
    was_sent: bool


async def find_invoice(
    pool: Pool, business_id: UUID, invoice_id: UUID, base_url: str
) -> StoredInvoice | None:
    row = await pool.fetchrow(
        statement("invoices", "queries.sql", "get_invoice"), business_id, invoice_id
    )
    if row is None:
        return None
    return StoredInvoice(
        view=InvoiceResponse.from_row(dict(row), base_url),
        version=int(row["version"]),
        was_sent=bool(row["was_sent"]),
    )


async def invoice_page(
    pool: Pool,
    business_id: UUID,
    *,
    status: str | None,
    page: int,
    per_page: int,
    base_url: str,
) -> tuple[list[InvoiceResponse], int]:
    rows, total = await list_invoices(
        pool, business_id, status=status, page=page, per_page=per_page
    )
    return [InvoiceResponse.from_row(row, base_url) for row in rows], total


async def get_invoice(pool: Pool, business_id: UUID, invoice_id: UUID) -> dict[str, Any] | None:
    """The row as a dict: what the delivery worker builds its message from."""
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
