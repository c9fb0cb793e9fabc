"""`rm_clients`: one client, and a page of a business's clients."""

from __future__ import annotations

from uuid import UUID

from asyncpg import Pool

from fastfaktura.readmodels.client_view import ClientResponse
from fastfaktura.readmodels.queries.common import Database
from fastfaktura.readmodels.sql import statement


async def find_client(db: Database, business_id: UUID, client_id: UUID) -> ClientResponse | None:
    row = await db.fetchrow(
        statement("clients", "queries.sql", "get_client"), business_id, client_id
    )
    return ClientResponse.from_row(dict(row)) if row else None


async def client_page(
    pool: Pool, business_id: UUID, *, q: str | None, archived: bool, page: int, per_page: int
) -> tuple[list[ClientResponse], int]:
    args = (business_id, q, archived)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            statement("clients", "queries.sql", "list_clients"),
            *args,
            per_page,
            (page - 1) * per_page,
        )
        total = await conn.fetchval(statement("clients", "queries.sql", "count_clients"), *args)
    return [ClientResponse.from_row(dict(r)) for r in rows], int(total)
