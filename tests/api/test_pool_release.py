"""The API's asyncpg pool releases connections without asyncpg's reset query (issue 12,
adapters/deadlines.py StatelessSessionConnection): a read costs only its own statements, and
that is safe because the API leaves no session state on a connection it gives back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
from litestar.testing import AsyncTestClient

from fastfaktura.api.services import services
from tests.conftest import Account
from tests.invoicing_support import INVOICES, create_client, create_invoice, get_json

T = TypeVar("T")

# What a session can keep after a statement: none of it may be left by the API.
SESSION_STATE = """
SELECT
  (SELECT count(*) FROM pg_listening_channels()) AS listening,
  (SELECT count(*) FROM pg_locks
    WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS advisory_locks,
  (SELECT count(*) FROM pg_cursors WHERE name <> '') AS cursors,  -- '': this query's portal
  (SELECT count(*) FROM pg_settings WHERE source = 'session') AS settings_set,
  (SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()) AS temp_relations,
  (SELECT count(*) FROM pg_prepared_statements WHERE from_sql) AS sql_prepared
"""


def _pool(client: AsyncTestClient[Any]) -> asyncpg.Pool:
    return services(client.app.state).pool


async def _in_app(client: AsyncTestClient[Any], work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` on the app's event loop (the test client serves it from another thread)."""
    return await asyncio.to_thread(client.blocking_portal.call, work)


@asynccontextmanager
async def _every_connection(pool: asyncpg.Pool) -> AsyncIterator[list[Any]]:
    """All the pool's connections at once (so each open one is among them), then given back."""
    connections: list[Any] = []
    try:
        for _ in range(pool.get_max_size()):
            connections.append(await pool.acquire())
        yield connections
    finally:
        for conn in connections:
            await pool.release(conn)


async def _leftovers(pool: asyncpg.Pool) -> list[dict[str, int]]:
    async with _every_connection(pool) as connections:
        states = [dict(await conn.fetchrow(SESSION_STATE)) for conn in connections]
    return [state for state in states if any(state.values())]


async def test_a_read_sends_its_own_statements_and_no_reset(
    client: AsyncTestClient[Any], account: Account
) -> None:
    buyer = await create_client(client, account)
    url = f"{INVOICES}/{(await create_invoice(client, account, buyer['id']))['id']}"
    await get_json(client, account, url)  # the key's last use is written once, here

    sent: list[str] = []
    pool = _pool(client)

    def log(record: Any) -> None:
        sent.append(record.query)

    async def logging(on: bool) -> None:
        async with _every_connection(pool) as connections:
            for conn in connections:
                (conn.add_query_logger if on else conn.remove_query_logger)(log)

    await _in_app(client, lambda: logging(True))
    try:
        await get_json(client, account, url)
    finally:
        await _in_app(client, lambda: logging(False))

    # The key's owner, then the stored answer: two statements, no `RESET ALL; ...` after each.
    # (The server's periodic purges, DELETE statements, may run on the pool meanwhile.)
    sent = [query for query in sent if not query.lstrip().startswith("DELETE FROM")]
    assert len(sent) == 2, sent
    assert "rm_api_keys" in sent[0]
    assert "rm_invoice_responses" in sent[1]


async def test_the_api_leaves_no_session_state_on_its_connections(
    client: AsyncTestClient[Any], account: Account
) -> None:
    pool = _pool(client)

    # The check sees state left on a released connection (nothing resets it any more).
    async def leave_a_setting() -> None:
        async with pool.acquire() as conn:
            await conn.execute("SELECT set_config('application_name', 'left behind', false)")

    async def reset_it() -> None:
        async with _every_connection(pool) as connections:
            for conn in connections:
                await conn.execute("RESET application_name")

    await _in_app(client, leave_a_setting)
    assert await _in_app(client, lambda: _leftovers(pool)) == [
        {
            "listening": 0,
            "advisory_locks": 0,
            "cursors": 0,
            "settings_set": 1,
            "temp_relations": 0,
            "sql_prepared": 0,
        }
    ]
    await _in_app(client, reset_it)

    # Reads, writes (idempotent ones too), errors, a key issued and revoked: nothing is left
    # (nor by the tests that ran before this one on the same server).
    headers = {**account.headers, "Idempotency-Key": "pool-release-1"}
    created = await client.post("/api/v1/clients", headers=headers, json={"name": "Kept AS"})
    assert created.status_code == 201, created.text
    invoice = await create_invoice(client, account, created.json()["id"])
    await get_json(client, account, f"{INVOICES}/{invoice['id']}")
    await get_json(client, account, f"{INVOICES}/{invoice['id']}/events")
    await get_json(client, account, f"{INVOICES}?status=draft")
    refused = await client.post(INVOICES, headers=account.headers, json={"lines": "no"})
    assert refused.status_code == 422
    issued = await client.post("/api/v1/api_keys", headers=account.headers, json={})
    assert issued.status_code == 201, issued.text
    prefix = issued.json()["key_prefix"]
    revoked = await client.delete(f"/api/v1/api_keys/{prefix}", headers=account.headers)
    assert revoked.status_code == 200, revoked.text
    assert await _in_app(client, lambda: _leftovers(pool)) == []
