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
