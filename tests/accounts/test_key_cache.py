"""The API key cache (issue 12, api/key_cache.py): with API_KEY_CACHE_SECONDS set, a key is
looked up once per TTL per process; its revocation, recorded by another connection (here the
test's own application and catch-up, as the CLI or another API process would), drops it from
the cache at once through LISTEN/NOTIFY: the next requests are 401 long before the TTL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import psycopg
import pytest
from litestar.testing import AsyncTestClient

from fastfaktura.api.app import create_app
from fastfaktura.application import Invoicing
from fastfaktura.config import AccountSettings, PdfPoolSettings, RateLimitSettings, Settings
from fastfaktura.event_reader import event_reader
from fastfaktura.readmodels.catchup import catch_up
from fastfaktura.readmodels.models import read_model
from tests.conftest import Account
from tests.helpers import assert_problem

BUSINESS = "/api/v1/business"
TTL = 300.0  # far longer than the test: only the notification can end a cached key


@pytest.fixture
async def cached(database_url: str) -> AsyncIterator[AsyncTestClient[Any]]:
    """An API process with the key cache on (its projections run elsewhere)."""
    settings = Settings(
        database_url=database_url,
        rate_limits=RateLimitSettings.off(),
        accounts=AccountSettings(key_cache_seconds=TTL),
        pdf=PdfPoolSettings(workers=1),
    )
    app = create_app(settings, database_url, run_projections=False)
    async with AsyncTestClient(app=app) as test_client:
        cache = app.state.services.key_cache
        deadline = time.monotonic() + 10
        while not cache.listening:  # its LISTEN connection is up
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        yield test_client


async def test_a_cached_key_is_refused_at_once_when_another_connection_revokes_it(
    cached: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    account = new_account("Cached Key Oy")
    assert (await cached.get(BUSINESS, headers=account.headers)).status_code == 200

    # Cached: the row changed behind the API's back (no notification) is not read again.
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE rm_api_keys SET revoked_at = now() WHERE key_prefix = %s", (account.key_prefix,)
        )
        assert (await cached.get(BUSINESS, headers=account.headers)).status_code == 200
        conn.execute(
            "UPDATE rm_api_keys SET revoked_at = NULL WHERE key_prefix = %s", (account.key_prefix,)
        )

    # Revoked for real: the api_keys projection's transaction notifies every API process.
    invoicing.revoke_api_key(account.key_prefix)
    catch_up(event_reader(invoicing), database_url, read_model("api_keys"))
    revoked_at = time.monotonic()
    while (answer := await cached.get(BUSINESS, headers=account.headers)).status_code == 200:
        # The notification's delivery (commit to this process's connection), nowhere near TTL.
        assert time.monotonic() - revoked_at < 2.0, "still accepted 2 s after the revocation"
        await asyncio.sleep(0.005)
    assert_problem(answer, 401)
    print(f"\nrefused {1000 * (time.monotonic() - revoked_at):.1f} ms after the revocation")
    assert_problem(await cached.get(BUSINESS, headers=account.headers), 401)
