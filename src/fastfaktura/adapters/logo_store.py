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
from fastfaktura.readmodels.queries.business import find_business_branding


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
    """The business's sandbox mark and logo (a business that is not there: none). Its mode
    and current logo's digest come from the read side's gateway, the pixels from here."""
    business = await find_business_branding(pool, business_id)
    if business is None:
        return NO_BRANDING
    sandbox = business.mode == "sandbox"
    if business.logo is None:
        return Branding(sandbox=sandbox)
    row = await pool.fetchrow(_sql("logo"), business_id, business.logo.sha256)
    logo = Logo(bytes(row["content"]), str(row["content_type"])) if row is not None else None
    return Branding(sandbox=sandbox, logo=logo)
