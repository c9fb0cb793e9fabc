"""`rm_business`: a business's profile."""

from __future__ import annotations

from uuid import UUID

from fastfaktura.readmodels.business_view import (
    BusinessBranding,
    BusinessResponse,
    logo_from_row,
)
from fastfaktura.readmodels.queries.common import Database, standard_uuid
from fastfaktura.readmodels.sql import statement


async def find_business(db: Database, business_id: UUID) -> BusinessResponse | None:
    row = await db.fetchrow(statement("business", "queries.sql", "get_business"), business_id)
    return BusinessResponse.from_row(dict(row)) if row else None


async def businesses_named(db: Database, name: str) -> list[UUID]:
    """The ids of every business with exactly this name (the CLI's `--business NAME`)."""
    rows = await db.fetch(statement("business", "queries.sql", "businesses_named"), name)
    return [standard_uuid(row["business_id"]) for row in rows]


async def find_business_branding(db: Database, business_id: UUID) -> BusinessBranding | None:
    """The business's mode and current logo (issue 17: what its documents show)."""
    row = await db.fetchrow(statement("business", "queries.sql", "get_business"), business_id)
    return BusinessBranding(mode=row["mode"], logo=logo_from_row(dict(row))) if row else None
