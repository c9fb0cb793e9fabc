"""Fixtures of the payment tests: a real local Stripe-compatible server (localstripe, in its
own process, see stripe_server.py), a database of their own, and an API-only app whose
payments worker the tests drive step by step (`run_once`), as `serve` would run it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import stripe
from litestar.testing import AsyncTestClient

from fastfaktura.adapters.stripe_gateway import StripeGateway
from fastfaktura.api.app import create_app
from fastfaktura.application import Invoicing
from fastfaktura.config import LOCAL_STRIPE_JS_PATH, Settings, StripeSettings
from fastfaktura.domain.sample_profile import SAMPLE_PROFILES
from fastfaktura.policies.payments import PaymentWorker
from tests.conftest import invoicing_on
from tests.helpers import caught_up_continuously, drop_database, fresh_database, settle
from tests.payments.support import PayAccount, Shop

ROOT = Path(__file__).resolve().parents[2]
TEST_SECRET_KEY = "sk_test_fastfaktura"
LIVE_SECRET_KEY = "sk_live_fastfaktura"
TEST_PUBLISHABLE_KEY = "pk_test_fastfaktura"
LIVE_PUBLISHABLE_KEY = "pk_live_fastfaktura"
WEBHOOK_SECRET = "whsec_fastfaktura_tests"
BASE_URL = "http://testserver"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def stripe_api() -> Iterator[str]:
    """localstripe on a free port, for the whole session; its base URL."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.payments.stripe_server", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}{LOCAL_STRIPE_JS_PATH}", timeout=1).raise_for_status()
            break
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                errors = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"localstripe did not start: {errors}") from None
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(10)


def stripe_settings(api_base: str, **overrides: Any) -> StripeSettings:
    values: dict[str, Any] = {
        "test_secret_key": TEST_SECRET_KEY,
        "live_secret_key": LIVE_SECRET_KEY,
        "test_publishable_key": TEST_PUBLISHABLE_KEY,
        "live_publishable_key": LIVE_PUBLISHABLE_KEY,
        "webhook_secrets": (WEBHOOK_SECRET,),
        "api_base": api_base,
        "js_url": f"{api_base}{LOCAL_STRIPE_JS_PATH}",
    }
    return StripeSettings(**{**values, **overrides})


@pytest.fixture(scope="module")
def pay_url(database_url: str) -> Iterator[str]:
    url = fresh_database(database_url, "payments")
    yield url
    drop_database(database_url, url)


@pytest.fixture(scope="module")
def pay_settings(pay_url: str, stripe_api: str) -> Settings:
    return Settings(
        database_url=pay_url, public_base_url=BASE_URL, stripe=stripe_settings(stripe_api)
    )


@pytest.fixture(scope="module")
def pay_invoicing(pay_url: str) -> Iterator[Invoicing]:
    with invoicing_on(pay_url) as app:
        yield app


@pytest.fixture(scope="module")
def pay_projections(pay_url: str, pay_invoicing: Invoicing) -> Iterator[None]:
    with caught_up_continuously(pay_invoicing, pay_url):
        yield


@pytest.fixture(scope="module")
async def pay_client(
    pay_settings: Settings, pay_url: str, pay_projections: None
) -> AsyncIterator[AsyncTestClient[Any]]:
    """The API (webhook endpoint and public page included), without the in-process workers:
    the tests run the payments worker themselves."""
    app = create_app(pay_settings, pay_url, run_projections=False)
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
async def pay_pool(pay_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(pay_url, min_size=1, max_size=5) as created:
        yield created


@pytest.fixture
def gateway(pay_settings: Settings) -> StripeGateway:
    return StripeGateway(pay_settings.stripe)


@pytest.fixture
def worker(
    pay_pool: asyncpg.Pool, pay_invoicing: Invoicing, gateway: StripeGateway
) -> PaymentWorker:
    """A payments worker as `serve` builds one (a new one per test: a 'restart')."""
    return PaymentWorker(pay_pool, pay_invoicing, gateway)


@pytest.fixture(scope="session")
def stripe_test(stripe_api: str) -> stripe.StripeClient:
    """The tests' own view of the Stripe account (test mode), through the SDK."""
    return stripe.StripeClient(
        TEST_SECRET_KEY,
        base_addresses={"api": stripe_api},
        http_client=stripe.HTTPXClient(allow_sync_methods=True),
    )


def new_pay_account(invoicing: Invoicing, url: str, mode: str = "sandbox") -> PayAccount:
    # A live business completes its own legal profile before its first send (API.md
    # "E-invoices and legal checks"); a sandbox one starts with the sample.
    own_profile = {"country": "FR", **SAMPLE_PROFILES["FR"]} if mode == "live" else {}
    issued = invoicing.register_business(
        "Pay Co", mode, legal_name="Pay Co SAS", email="billing@payco.example", **own_profile
    ).value
    settle(url, deliveries=False)
    return PayAccount(issued.business_id, {"X-Api-Key": issued.secret})


@pytest.fixture
def pay_account(
    pay_client: AsyncTestClient[Any], pay_invoicing: Invoicing, pay_url: str
) -> PayAccount:
    return new_pay_account(pay_invoicing, pay_url)


@pytest.fixture
def shop(
    pay_client: AsyncTestClient[Any],
    pay_account: PayAccount,
    pay_url: str,
    worker: PaymentWorker,
    stripe_api: str,
    stripe_test: stripe.StripeClient,
) -> Shop:
    return Shop(
        pay_client,
        pay_account,
        pay_url,
        worker,
        stripe_api,
        stripe_test,
        TEST_SECRET_KEY,
        WEBHOOK_SECRET,
    )
