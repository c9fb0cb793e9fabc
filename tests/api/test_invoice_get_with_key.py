"""GET /api/v1/invoices/{id} with the per-key limit on, as in production: the key's check, its
token and the stored answer in one statement (api/auth.py `tenant_and_read`, issue 12), with
every answer the two statements gave: the quota headers, 429 when the bucket is empty, 404
for another business's invoice and for an id that is not one, 401 for a key revoked a moment
ago, and a write visible to the next read.

The apps here run without projections: the shared `client` runs them (and serves, without
limits, what the tests set up)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar.testing import AsyncTestClient

from fastfaktura.api.services import services
from tests.api.test_rate_limits import (
    NO_REFILL,
    app_with,
    assert_rate_limited,
    keys,
    rate_headers,
)
from tests.conftest import Account
from tests.helpers import assert_problem
from tests.invoicing_support import CLIENTS, INVOICES, create_client, create_invoice, get_json
from tests.invoicing_support import invoice_body as new_invoice


@asynccontextmanager
async def statements_sent(api: AsyncTestClient[Any]) -> AsyncIterator[list[str]]:
    """The statements the app's query pool sends meanwhile (its periodic purges left out)."""
    pool = services(api.app.state).pool
    sent: list[str] = []

    def log(record: Any) -> None:
        if not record.query.lstrip().startswith("DELETE FROM"):
            sent.append(record.query)

    async def every_connection(on: bool) -> None:
        held = [await pool.acquire() for _ in range(pool.get_max_size())]
        for conn in held:
            (conn.add_query_logger if on else conn.remove_query_logger)(log)
        for conn in held:
            await pool.release(conn)

    def in_app(on: bool) -> Any:
        return asyncio.to_thread(api.blocking_portal.call, lambda: every_connection(on))

    await in_app(True)
    try:
        yield sent
    finally:
        await in_app(False)


async def test_a_get_by_id_is_one_statement_with_the_same_answer_and_the_quota_headers(
    database_url: str, client: AsyncTestClient[Any], account: Account
) -> None:
    buyer = await create_client(client, account)
    url = f"{INVOICES}/{(await create_invoice(client, account, buyer['id']))['id']}"
    expected = await get_json(client, account, url)  # limits off: the key, then the read
    async with app_with(database_url, keys(NO_REFILL, 5)) as api:
        # The key's last use is written on its first request in a process (api/key_usage.py).
        assert (await api.get("/api/v1/business", headers=account.headers)).status_code == 200
        async with statements_sent(api) as sent:
            response = await api.get(url, headers=account.headers)
        assert response.status_code == 200, response.text
        assert response.json() == expected
        assert rate_headers(response)[:2] == (5, 3)
        assert len(sent) == 1, sent
        assert all(table in sent[0] for table in ("rm_api_keys", "rate_limit_buckets"))
        assert "rm_invoice_responses" in sent[0]


async def test_the_tenant_wall_a_bad_id_and_an_empty_bucket_answer_as_before(
    database_url: str,
    client: AsyncTestClient[Any],
    account: Account,
    new_account: Callable[..., Account],
) -> None:
    other = new_account("Other Business GK")
    theirs = await create_invoice(client, other, (await create_client(client, other))["id"])
    mine = await create_invoice(client, account, (await create_client(client, account))["id"])
    async with app_with(database_url, keys(NO_REFILL, 3)) as api:
        wall = await api.get(f"{INVOICES}/{theirs['id']}", headers=account.headers)
        assert_problem(wall, 404)
        assert rate_headers(wall)[:2] == (3, 2)  # a token taken, as for any answer after the key
        not_an_id = await api.get(f"{INVOICES}/not-a-uuid", headers=account.headers)
        assert_problem(not_an_id, 404)
        assert rate_headers(not_an_id)[:2] == (3, 1)
        unknown = await api.get(
            f"{INVOICES}/{mine['id']}", headers={"X-Api-Key": "ffk_test_" + "x" * 32}
        )
        assert_problem(unknown, 401)
        assert "RateLimit-Remaining" not in unknown.headers
        ok = await api.get(f"{INVOICES}/{mine['id']}", headers=account.headers)
        assert ok.status_code == 200, ok.text
        assert ok.json()["id"] == mine["id"]
        assert rate_headers(ok)[:2] == (3, 0)
        assert_rate_limited(await api.get(f"{INVOICES}/{mine['id']}", headers=account.headers))
        # The other business's key still reads its own invoice (its own bucket).
        own = await api.get(f"{INVOICES}/{theirs['id']}", headers=other.headers)
        assert own.status_code == 200, own.text


async def test_a_write_shows_in_the_next_read_and_a_revoked_key_is_refused_at_once(
    database_url: str, client: AsyncTestClient[Any], account: Account
) -> None:
    async with app_with(database_url, keys(NO_REFILL, 50)) as api:
        made = await api.post(CLIENTS, headers=account.headers, json={"name": "Client GK"})
        assert made.status_code == 201, made.text
        body = new_invoice(made.json()["id"], notes="first")
        created = await api.post(INVOICES, headers=account.headers, json=body)
        assert created.status_code == 201, created.text
        url = f"{INVOICES}/{created.json()['id']}"
        read = await api.get(url, headers=account.headers)
        assert read.status_code == 200, read.text
        assert (read.json()["number"], read.json()["notes"]) == (created.json()["number"], "first")
        edited = await api.put(url, headers=account.headers, json={"notes": "second"})
        assert edited.status_code == 200, edited.text
        assert (await api.get(url, headers=account.headers)).json()["notes"] == "second"

        revoked = await api.delete(
            f"/api/v1/api_keys/{account.key_prefix}", headers=account.headers
        )
        assert revoked.status_code == 200, revoked.text
        refused = await api.get(url, headers=account.headers)
        assert_problem(refused, 401)
        assert "RateLimit-Remaining" not in refused.headers
