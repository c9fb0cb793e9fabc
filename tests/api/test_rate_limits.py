"""Rate limits (API.md "Limits and availability"): a token bucket per API key and per client
address on the public pages, kept in PostgreSQL so that every process shares it.

The shared `client` runs without limits; each test here runs its own apps with the limits it
needs, on the suite's database, without projections (the shared client runs them). A tiny
refill rate makes a burst exact: at 0.01 tokens/s, no token comes back during a test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

import asyncpg
import psycopg
import pytest
from litestar.testing import AsyncTestClient
from litestar.types import ASGIApp, Receive, Scope, Send

from fastfaktura.api.app import create_app
from fastfaktura.api.ratelimit import Quota, client_address, purge_full_buckets
from fastfaktura.application import Invoicing
from fastfaktura.config import PdfPoolSettings, RateLimitSettings, Settings
from tests.conftest import Account
from tests.helpers import assert_problem
from tests.invoicing_support import invoice_for

BUSINESS = "/api/v1/business"
NO_REFILL = 0.01  # tokens per second: none comes back while a test runs


@asynccontextmanager
async def app_with(
    database_url: str, limits: RateLimitSettings, *, client_host: str | None = None
) -> AsyncIterator[AsyncTestClient[Any]]:
    """The API (no projections) with these limits; every request from `client_host` if given."""
    settings = Settings(
        database_url=database_url,
        public_base_url="http://testserver",
        rate_limits=limits,
        # At most a PDF per test: one worker, as each worker's warm-up renders are most of an
        # app's start.
        pdf=PdfPoolSettings(workers=1),
    )
    app: ASGIApp = create_app(settings, database_url, run_projections=False)
    if client_host is not None:
        app = _from_address(app, client_host)
    async with AsyncTestClient(app=app) as test_client:  # type: ignore[type-var]
        yield test_client


def _from_address(app: ASGIApp, host: str) -> ASGIApp:
    """The app as reached from `host` (what uvicorn puts in the scope for a client)."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["client"] = (host, 40000)
        await app(scope, receive, send)

    return asgi


def keys(per_second: float, burst: int) -> RateLimitSettings:
    return RateLimitSettings(
        key_per_second=per_second, key_burst=burst, page_per_second=0, page_burst=0
    )


def pages(per_second: float, burst: int) -> RateLimitSettings:
    return RateLimitSettings(
        key_per_second=0, key_burst=0, page_per_second=per_second, page_burst=burst
    )


def rate_headers(response: Any) -> tuple[int, int, int]:
    return (
        int(response.headers["RateLimit-Limit"]),
        int(response.headers["RateLimit-Remaining"]),
        int(response.headers["RateLimit-Reset"]),
    )


def bucket_rows(database_url: str, bucket: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM rate_limit_buckets WHERE bucket = %s", (bucket,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def assert_rate_limited(response: Any) -> int:
    """A 429 problem+json with Retry-After (seconds) and the quota headers; Retry-After."""
    body = assert_problem(response, 429)
    assert body["type"].endswith("/rate-limited")
    retry_after = int(response.headers["Retry-After"])
    assert retry_after >= 1
    assert rate_headers(response)[1] == 0
    return retry_after


async def test_a_key_has_a_burst_of_200_then_429_with_retry_after_and_the_headers(
    database_url: str, account: Account
) -> None:
    async with app_with(database_url, keys(NO_REFILL, 200)) as api:
        started = time.monotonic()
        for sent in range(1, 201):
            response = await api.get(BUSINESS, headers=account.headers)
            assert response.status_code == 200, (sent, response.text)
            limit, remaining, reset = rate_headers(response)
            assert (limit, remaining) == (200, 200 - sent)
            # Until full again: `sent` tokens at 0.01/s, less what refilled since the first
            # request (a loaded machine takes longer to send them; the bound follows the clock).
            refilled_for = time.monotonic() - started
            assert sent / NO_REFILL - refilled_for - 2 <= reset <= sent / NO_REFILL + 2
        refused = await api.get(BUSINESS, headers=account.headers)
        retry_after = assert_rate_limited(refused)
        assert retry_after == pytest.approx(1 / NO_REFILL, abs=2)  # one whole token: ~100 s
        assert rate_headers(refused)[0] == 200
        # An error answer after authentication carries the headers too (and is refused first).
        missing = await api.get(f"/api/v1/clients/{uuid4()}", headers=account.headers)
        assert_rate_limited(missing)


async def test_error_answers_after_authentication_carry_the_headers_and_401s_do_not(
    database_url: str, account: Account
) -> None:
    async with app_with(database_url, keys(NO_REFILL, 5)) as api:
        missing = await api.get(f"/api/v1/clients/{uuid4()}", headers=account.headers)
        assert missing.status_code == 404
        assert rate_headers(missing) == (5, 4, pytest.approx(100, abs=2))
        invalid = await api.post("/api/v1/clients", headers=account.headers, json={"name": ""})
        assert invalid.status_code == 422
        assert rate_headers(invalid)[:2] == (5, 3)
        # Unknown keys are refused before any bucket: they take no token and leave no row.
        unknown = "ffk_test_" + "x" * 32
        for _ in range(3):
            refused = await api.get(BUSINESS, headers={"X-Api-Key": unknown})
            assert refused.status_code == 401
            assert "RateLimit-Remaining" not in refused.headers
        ok = await api.get(BUSINESS, headers=account.headers)
        assert rate_headers(ok)[:2] == (5, 2)
    assert bucket_rows(database_url, "key:" + unknown[:16]) == 0
    assert bucket_rows(database_url, "key:" + account.key_prefix) == 1


async def test_a_key_bucket_refills_over_time(database_url: str, account: Account) -> None:
    # 1 token a second, at most 2: empty after 2, one back every second, full again in 2 s.
    # (A second per token leaves a loaded machine room to send three requests in a row.)
    async with app_with(database_url, keys(1, 2)) as api:
        statuses = [(await api.get(BUSINESS, headers=account.headers)).status_code for _ in "abc"]
        assert statuses == [200, 200, 429]
        await asyncio.sleep(1.2)
        one_back = await api.get(BUSINESS, headers=account.headers)
        assert one_back.status_code == 200, one_back.text
        assert (await api.get(BUSINESS, headers=account.headers)).status_code == 429
        await asyncio.sleep(2.5)  # longer than a full refill: full, and never more than the burst
        statuses = [(await api.get(BUSINESS, headers=account.headers)).status_code for _ in "abc"]
        assert statuses == [200, 200, 429]


async def test_two_keys_have_their_own_buckets(
    database_url: str, new_account: Callable[..., Account]
) -> None:
    first, second = new_account("First Key AB"), new_account("Second Key AB")
    async with app_with(database_url, keys(NO_REFILL, 3)) as api:
        for _ in range(3):
            assert (await api.get(BUSINESS, headers=first.headers)).status_code == 200
        assert_rate_limited(await api.get(BUSINESS, headers=first.headers))
        other = await api.get(BUSINESS, headers=second.headers)
        assert other.status_code == 200
        assert rate_headers(other)[:2] == (3, 2)


async def test_two_app_instances_share_one_key_bucket_even_when_hit_at_once(
    database_url: str, account: Account
) -> None:
    # Two apps, each with its own pools, as two processes would be: 60 requests at once
    # through each, on a bucket of 50. Exactly 50 pass.
    async with (
        app_with(database_url, keys(NO_REFILL, 50)) as one,
        app_with(database_url, keys(NO_REFILL, 50)) as two,
    ):
        answers = await asyncio.gather(
            *(api.get(BUSINESS, headers=account.headers) for api in [one, two] * 60)
        )
    statuses = sorted(response.status_code for response in answers)
    assert statuses.count(200) == 50, statuses
    assert statuses.count(429) == 70, statuses
    remaining = sorted(rate_headers(r)[1] for r in answers if r.status_code == 200)
    assert remaining == list(range(50))  # every token handed out once


async def test_public_pages_are_limited_per_client_address_with_an_html_429(
    database_url: str,
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
) -> None:
    invoice = await invoice_for(client, account, invoicing, database_url)
    page = "/i/" + invoice["public_url"].rsplit("/", 1)[-1]
    host = f"198.51.100.{uuid4().int % 250 + 1}"
    async with (
        app_with(database_url, pages(NO_REFILL, 10), client_host=host) as reader,
        app_with(database_url, pages(NO_REFILL, 10), client_host="2001:db8::1") as other,
    ):
        # The page, its PDF and unknown tokens draw on the same bucket: 10, then 429.
        assert (await reader.get(page)).status_code == 200
        assert (await reader.get(page + "/pdf")).status_code == 200
        for _ in range(8):
            assert (await reader.get("/i/no-such-token")).status_code == 404
        for path in (page, page + "/pdf", "/i/no-such-token"):
            refused = await reader.get(path)
            assert refused.status_code == 429, refused.text
            assert refused.headers["content-type"].startswith("text/html")
            assert int(refused.headers["Retry-After"]) >= 1
            assert refused.headers["Cache-Control"] == "no-store"
            # The public pages' own error page (adapters/web/page.py), never JSON.
            assert "Too many pages were requested" in refused.text
            assert "RateLimit-Remaining" not in refused.headers
        # Another address has its own bucket; the API is not counted per address.
        assert (await other.get(page)).status_code == 200
        assert (await reader.get(BUSINESS, headers=account.headers)).status_code == 200
    assert bucket_rows(database_url, f"page:{host}") == 1
    assert bucket_rows(database_url, "page:2001:db8::/64") == 1


async def test_zero_turns_the_limits_off_and_then_no_header_is_sent(
    database_url: str, account: Account
) -> None:
    off = Settings.from_env(
        {"FASTFAKTURA_RATE_LIMIT_KEY_PER_SECOND": "0", "FASTFAKTURA_RATE_LIMIT_PAGE_BURST": "0"}
    ).rate_limits
    async with app_with(database_url, off, client_host="203.0.113.77") as api:
        answers = await asyncio.gather(
            *(api.get(BUSINESS, headers=account.headers) for _ in range(250))
        )
        assert {r.status_code for r in answers} == {200}
        assert not any("RateLimit-Limit" in r.headers for r in answers)
        views = [(await api.get("/i/no-such-token")).status_code for _ in range(15)]
        assert set(views) == {404}
    assert bucket_rows(database_url, "key:" + account.key_prefix) == 0
    assert bucket_rows(database_url, "page:203.0.113.77") == 0


def test_settings_come_from_the_environment_with_the_contract_defaults() -> None:
    assert Settings.from_env({}).rate_limits == RateLimitSettings(
        key_per_second=100, key_burst=200, page_per_second=10, page_burst=10
    )
    limits = Settings.from_env(
        {
            "FASTFAKTURA_RATE_LIMIT_KEY_PER_SECOND": "50",
            "FASTFAKTURA_RATE_LIMIT_KEY_BURST": "75",
            "FASTFAKTURA_RATE_LIMIT_PAGE_PER_SECOND": "0.5",
            "FASTFAKTURA_RATE_LIMIT_PAGE_BURST": "3",
        }
    ).rate_limits
    assert (limits.key_per_second, limits.key_burst) == (50, 75)
    assert (limits.page_per_second, limits.page_burst) == (0.5, 3)
    assert limits.keys_limited
    assert limits.pages_limited
    off = Settings.from_env({"FASTFAKTURA_RATE_LIMIT_KEY_BURST": "0"}).rate_limits
    assert not off.keys_limited
    assert off.pages_limited
    for bad in ("-1", "many", "inf", "nan"):
        with pytest.raises(ValueError, match="FASTFAKTURA_RATE_LIMIT_PAGE_PER_SECOND"):
            Settings.from_env({"FASTFAKTURA_RATE_LIMIT_PAGE_PER_SECOND": bad})


def test_the_quota_headers_are_whole_seconds_and_tokens() -> None:
    fresh = Quota(burst=200, per_second=100, tokens=199.0, allowed=True)
    assert fresh.headers() == {
        "RateLimit-Limit": "200",
        "RateLimit-Remaining": "199",
        "RateLimit-Reset": "1",
    }
    empty = Quota(burst=200, per_second=100, tokens=0.25, allowed=False)
    assert empty.headers() == {
        "RateLimit-Limit": "200",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "2",
        "Retry-After": "1",  # never 0, though the next token is 7.5 ms away
    }


@pytest.mark.parametrize(
    ("host", "bucket"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("testclient", "testclient"),
    ],
)
def test_an_address_bucket_is_the_ipv4_address_or_the_ipv6_slash_64(host: str, bucket: str) -> None:
    assert client_address({"client": (host, 1234)}) == bucket  # type: ignore[typeddict-item]


async def test_buckets_that_have_refilled_are_purged(database_url: str) -> None:
    limits = RateLimitSettings()
    stale, fresh = f"page:stale-{uuid4()}", f"page:fresh-{uuid4()}"
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO rate_limit_buckets (bucket, tokens, updated_at, allowed) VALUES "
            "(%s, 0, now() - interval '61 seconds', false), (%s, 0, now(), false)",
            (stale, fresh),
        )
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    try:
        assert await purge_full_buckets(pool, limits) >= 1
    finally:
        await pool.close()
    assert bucket_rows(database_url, stale) == 0
    assert bucket_rows(database_url, fresh) == 1


async def test_the_openapi_document_lists_429_on_every_route_that_takes_a_key(
    client: AsyncTestClient[Any],
) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    with_key = [
        (path, method, operation["responses"])
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "401" in operation.get("responses", {})
    ]
    assert len(with_key) > 10
    for path, method, responses in with_key:
        assert "429" in responses, (method, path)
        assert "application/problem+json" in responses["429"]["content"], (method, path)
    assert "429" not in document["paths"]["/health"]["get"]["responses"]
