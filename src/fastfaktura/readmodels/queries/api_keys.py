"""`rm_api_keys`: who a key belongs to, and a business's keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from fastfaktura.readmodels.queries.common import Database, standard_uuid
from fastfaktura.readmodels.sql import statement


class KeyOwner(msgspec.Struct, frozen=True, kw_only=True):
    """The business a live (not revoked) key belongs to."""

    business_id: UUID
    mode: str

    @classmethod
    def from_row(cls, row: Any) -> KeyOwner:
        # asyncpg returns its own UUID subclass; events must carry the standard type.
        return cls(
            business_id=standard_uuid(row["business_id"]),
            mode=row["mode"],
        )


class KeyListing(msgspec.Struct, frozen=True, kw_only=True):
    key_prefix: str
    mode: str
    issued_at: datetime
    revoked_at: datetime | None


async def authenticate(db: Database, key_hash: str) -> KeyOwner | None:
    row = await db.fetchrow(statement("api_keys", "queries.sql", "authenticate"), key_hash)
    return KeyOwner.from_row(row) if row else None


async def list_keys(db: Database, business_id: UUID) -> list[KeyListing]:
    rows = await db.fetch(statement("api_keys", "queries.sql", "list_keys"), business_id)
    return [KeyListing(**dict(row)) for row in rows]


class KeyView(msgspec.Struct, frozen=True, kw_only=True):
    """A key as the API and /account show it, with its last use (api_key_usage)."""

    key_prefix: str
    name: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


async def business_keys(db: Database, business_id: UUID, limit: int, offset: int) -> list[KeyView]:
    """The business's keys, newest first."""
    rows = await db.fetch(
        statement("api_keys", "queries.sql", "list_business_keys"), business_id, limit, offset
    )
    return [KeyView(**dict(row)) for row in rows]


async def count_business_keys(db: Database, business_id: UUID) -> int:
    total: int = await db.fetchval(
        statement("api_keys", "queries.sql", "count_business_keys"), business_id
    )
    return total


async def find_business_key(db: Database, business_id: UUID, key_prefix: str) -> KeyView | None:
    row = await db.fetchrow(
        statement("api_keys", "queries.sql", "get_business_key"), business_id, key_prefix
    )
    return KeyView(**dict(row)) if row else None
