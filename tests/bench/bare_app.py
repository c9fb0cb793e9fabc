"""The baseline of GET /api/v1/invoices/{id}: a bare Litestar app doing the same primary-key
select of the same row and returning it as JSON, with nothing else (no auth, no events, no
response schema). Served exactly as `fastfaktura serve` serves the API (cli/serve.py, cmd_serve):
`uvicorn.run(app, host, port, log_config=None, access_log=False)`, one process, the same
asyncpg pool size as the API (api/app.py: min 2, max 20), and like the API's pool its
connections are released without asyncpg's reset query (adapters/deadlines.py
`StatelessSessionConnection`): a baseline paying a round trip the API no longer pays would
flatter the API's ratio.

Run: `DATABASE_URL=... python -m tests.bench.bare_app --host 127.0.0.1 --port 8401`
Route: `GET /invoices/{id}?business_id=...`; `GET /health` answers 200 once the pool is up.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException

SELECT = "SELECT * FROM rm_invoices WHERE business_id = $1 AND id = $2"


class _NoResetConnection(asyncpg.Connection):  # type: ignore[misc]
    """Released to the pool without `SELECT pg_advisory_unlock_all(); CLOSE ALL; ...`: this
    app changes no session state either."""

    def get_reset_query(self) -> str:
        return ""


async def _init(conn: asyncpg.Connection) -> None:
    # jsonb columns (lines, tax_breakdown, seller, buyer) as JSON values, not strings.
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        encoder=lambda value: msgspec.json.encode(value).decode(),
        decoder=msgspec.json.decode,
    )


def create_app(database_url: str) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(
            database_url,
            min_size=2,
            max_size=20,
            init=_init,
            connection_class=_NoResetConnection,
        )
        try:
            yield
        finally:
            await app.state.pool.close()

    @get("/invoices/{invoice_id:uuid}")
    async def get_invoice(invoice_id: UUID, business_id: UUID, state: State) -> dict[str, Any]:
        row = await state.pool.fetchrow(SELECT, business_id, invoice_id)
        if row is None:
            raise NotFoundException()
        return dict(row)

    @get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar(route_handlers=[get_invoice, health], lifespan=[lifespan], debug=False)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m tests.bench.bare_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = create_app(os.environ["DATABASE_URL"])
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
