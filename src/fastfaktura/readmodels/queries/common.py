"""What every gateway module shares."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

# A pool, or one connection (the CLI's): both run the same statements.
Database = asyncpg.Pool | asyncpg.Connection


def standard_uuid(value: Any) -> UUID:
    """asyncpg's UUID type -> the standard one (what events and aggregates must carry)."""
    return UUID(bytes=value.bytes)
