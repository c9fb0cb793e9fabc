"""`rm_users`: who signs in, and to which business."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from fastfaktura.readmodels.queries.common import Database, standard_uuid
from fastfaktura.readmodels.sql import statement


class StoredUser(msgspec.Struct, frozen=True, kw_only=True):
    user_id: UUID
    # The business a session may read: this row's, never anything the browser sent.
    business_id: UUID
    email: str
    role: str
    password_hash: str | None
    password_set_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> StoredUser:
        fields = dict(row)
        fields["user_id"] = standard_uuid(row["user_id"])
        fields["business_id"] = standard_uuid(row["business_id"])
        return cls(**fields)


async def find_user_by_email(db: Database, email: str) -> StoredUser | None:
    """`email` normalised (trimmed, lower case), as stored."""
    row = await db.fetchrow(statement("users", "queries.sql", "user_by_email"), email)
    return StoredUser.from_row(row) if row else None


async def find_user(db: Database, user_id: UUID) -> StoredUser | None:
    row = await db.fetchrow(statement("users", "queries.sql", "user_by_id"), user_id)
    return StoredUser.from_row(row) if row else None
