"""What every gateway module shares."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeAlias
from uuid import UUID

import asyncpg

from fastfaktura.readmodels.sql import statement

# A pool, or one connection (the CLI's): both run the same statements.
Database: TypeAlias = asyncpg.Pool | asyncpg.Connection


def standard_uuid(value: Any) -> UUID:
    """asyncpg's UUID type -> the standard one (what events and aggregates must carry)."""
    return UUID(bytes=value.bytes)


_PARAMETER = re.compile(r"\$(\d+)")


@dataclass(frozen=True)
class ScopedRead:
    """One value of a business's read models: a named statement whose $1 is the business and
    $2, $3... its own arguments. Run alone (`fetch`), or as a scalar subquery of a statement
    that already knows the business (`within`): the API's key statement, so that a GET by id
    costs one round trip (api/auth.py `tenant_and_read`)."""

    read_model: str
    name: str
    file: str = "queries.sql"

    @property
    def sql(self) -> str:
        return statement(self.read_model, self.file, self.name)

    async def fetch(self, db: Database, business_id: UUID, *args: Any) -> Any:
        return await db.fetchval(self.sql, business_id, *args)

    def within(self, business: str, first_parameter: int) -> str:
        """The statement as a subquery of one where the SQL expression `business` is the
        business and this statement's $2, $3... are passed as $first_parameter, ..."""
        return _within(self, business, first_parameter)


@cache
def _within(read: ScopedRead, business: str, first_parameter: int) -> str:
    # Read-model statements hold no `$` but their parameters (no literals, no dollar quotes).
    def renumbered(match: re.Match[str]) -> str:
        number = int(match[1])
        return business if number == 1 else f"${number - 2 + first_parameter}"

    return "(" + _PARAMETER.sub(renumbered, read.sql) + "\n)"  # after any trailing comment
