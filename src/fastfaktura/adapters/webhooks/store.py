"""Webhook endpoints, their delivery queue and their delivery log, in PostgreSQL (asyncpg).

A table, not events: an endpoint is a setting, not a business fact, and its signing secret
must stay erasable. DELETE marks the endpoint deleted; its deliveries and attempts stay.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from fastfaktura.adapters.named_sql import local_statement

SECRET_PREFIX = "whsec_"


def statement(name: str) -> str:
    return local_statement(__file__, "store.sql", name)


def new_secret() -> str:
    """`whsec_` + base64 of 24 random bytes (Standard Webhooks: 24 to 64 bytes)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


async def create_endpoint(
    pool: asyncpg.Pool, business_id: UUID, url: str, events: list[str], description: str | None
) -> dict[str, Any]:
    async with pool.acquire() as conn, conn.transaction():
        # Only events recorded from now on are delivered to it.
        head = await conn.fetchval(statement("store_head"))
        row = await conn.fetchrow(
            statement("create_endpoint"),
            uuid4(),
            business_id,
            url,
            events,
            description,
            new_secret(),
            head,
        )
    assert row is not None
    return dict(row)


async def get_endpoint(
    pool: asyncpg.Pool, business_id: UUID, endpoint_id: UUID, *, deleted_too: bool = False
) -> dict[str, Any] | None:
    name = "get_endpoint_even_deleted" if deleted_too else "get_endpoint"
    row = await pool.fetchrow(statement(name), business_id, endpoint_id)
    return None if row is None else dict(row)


async def list_endpoints(
    pool: asyncpg.Pool, business_id: UUID, page: int, per_page: int
) -> tuple[list[dict[str, Any]], int]:
    rows = await pool.fetch(
        statement("list_endpoints"), business_id, per_page, (page - 1) * per_page
    )
    return [dict(r) for r in rows], (rows[0]["total"] if rows else 0)


async def delete_endpoint(
    pool: asyncpg.Pool, business_id: UUID, endpoint_id: UUID
) -> dict[str, Any] | None:
    row = await pool.fetchrow(statement("delete_endpoint"), business_id, endpoint_id)
    return None if row is None else dict(row)


async def list_attempts(
    pool: asyncpg.Pool, business_id: UUID, endpoint_id: UUID, page: int, per_page: int
) -> tuple[list[dict[str, Any]], int]:
    rows = await pool.fetch(
        statement("list_attempts"), business_id, endpoint_id, per_page, (page - 1) * per_page
    )
    return [dict(r) for r in rows], (rows[0]["total"] if rows else 0)


class _NothingToRetry(Exception):
    pass


async def retry_delivery(
    pool: asyncpg.Pool, business_id: UUID, endpoint_id: UUID, event_id: UUID
) -> bool:
    """Deliver that event to that endpoint again, at once; False when there is no such
    delivery (unknown endpoint or event, or the event was never for this endpoint)."""
    try:
        async with pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                statement("retry_delivery"), business_id, endpoint_id, event_id
            )
            if row is None:
                raise _NothingToRetry  # rolls back the endpoint's re-enabling too
    except _NothingToRetry:
        return False
    return True
