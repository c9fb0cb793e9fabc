"""Where logos are kept (business_logos, migration 0026; SQL: logo_store.sql), and what a
business's documents show: its mode and current logo (`branding`).

The pixels are written here, before the Business aggregate records `LogoChanged` with their
digest; rows are never changed or deleted, so the logo a document showed stays findable by
the digest its event recorded (the audit's answer to "which logo was that?").
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from fastfaktura.adapters.logo_image import CleanLogo
from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.adapters.web.branding import NO_BRANDING, Branding, Logo


def _sql(name: str) -> str:
    return local_statement(__file__, "logo_store.sql", name)


async def store_logo(pool: asyncpg.Pool, business_id: UUID, logo: CleanLogo) -> None:
    await pool.execute(
        _sql("store_logo"),
        business_id,
        logo.sha256,
        logo.content_type,
        logo.content,
        logo.width,
        logo.height,
    )


async def branding(pool: asyncpg.Pool, business_id: UUID) -> Branding:
    """The business's sandbox mark and logo (a business that is not there: none)."""
    row = await pool.fetchrow(_sql("branding"), business_id)
    if row is None:
        return NO_BRANDING
    logo = Logo(bytes(row["content"]), row["content_type"]) if row["content"] else None
    return Branding(sandbox=row["mode"] == "sandbox", logo=logo)
