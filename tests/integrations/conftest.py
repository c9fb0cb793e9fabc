"""Fixtures of the webhook delivery tests: a database of their own, an API-only app (the
tests run the webhook worker themselves, with fast retry timings), and a real receiver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from litestar.testing import AsyncTestClient

from fastfaktura.adapters.webhooks.addresses import Resolver, system_resolver
from fastfaktura.adapters.webhooks.sender import WebhookSender
from fastfaktura.api.app import create_app
from fastfaktura.application import Invoicing
from fastfaktura.config import RateLimitSettings, Settings, WebhookSettings
from fastfaktura.event_reader import event_reader
from fastfaktura.policies.webhooks import WebhookWorker
from tests.conftest import Account, invoicing_on
from tests.helpers import caught_up_continuously, drop_database, fresh_database, settle
from tests.integrations.receiver import Receiver

BASE_URL = "http://testserver"
FAST = WebhookSettings(
    timeout_seconds=3.0,  # short, with room for a loaded machine
    retry_base_seconds=0.05,
    retry_max_seconds=0.2,
    give_up_seconds=60.0,
    concurrency_per_endpoint=2,
    poll_seconds=0.05,
)


@pytest.fixture(scope="module")
def hook_url(database_url: str) -> Iterator[str]:
    url = fresh_database(database_url, "webhooks")
    yield url
    drop_database(database_url, url)


@pytest.fixture(scope="module")
def hook_invoicing(hook_url: str) -> Iterator[Invoicing]:
    with invoicing_on(hook_url) as app:
        yield app


@pytest.fixture(scope="module")
async def hook_client(
    hook_url: str, hook_invoicing: Invoicing
) -> AsyncIterator[AsyncTestClient[Any]]:
    settings = Settings(
        database_url=hook_url, public_base_url=BASE_URL, rate_limits=RateLimitSettings.off()
    )
    with caught_up_continuously(hook_invoicing, hook_url):
        app = create_app(settings, hook_url, run_projections=False)
        async with AsyncTestClient(app=app) as test_client:
            yield test_client


@pytest.fixture(scope="module")
async def hook_pool(hook_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(hook_url, min_size=1, max_size=8) as created:
        yield created


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", found.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server: Any = site._server  # aiohttp keeps the bound socket there
    found.port = server.sockets[0].getsockname()[1]
    yield found
    await runner.cleanup()


@pytest.fixture
def new_hook_account(hook_invoicing: Invoicing, hook_url: str) -> Callable[..., Account]:
    def make(name: str = "Hooked AS", mode: str = "sandbox") -> Account:
        issued = hook_invoicing.register_business(name, mode).value
        settle(hook_url, deliveries=False)
        return Account(issued.business_id, issued.secret, issued.prefix)

    return make


class Workers:
    """Webhook workers the test starts (and crashes); all stopped at the end."""

    def __init__(self, pool: asyncpg.Pool, invoicing: Invoicing) -> None:
        self.pool, self.invoicing = pool, invoicing
        self.tasks: list[asyncio.Task[None]] = []

    def start(
        self, resolver: Resolver = system_resolver, **settings: Any
    ) -> tuple[WebhookWorker, asyncio.Task[None]]:
        chosen = WebhookSettings(**{**_fields(FAST), **settings})
        worker = WebhookWorker(
            self.pool,
            event_reader(self.invoicing),
            WebhookSender(timeout=chosen.timeout_seconds, resolver=resolver),
            chosen,
            BASE_URL,
            poll_seconds=chosen.poll_seconds,
            record_disabled=self.invoicing.record_webhook_endpoint_disabled,
        )
        task = asyncio.create_task(worker.run())
        self.tasks.append(task)
        return worker, task

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()


def _fields(settings: WebhookSettings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in settings.__struct_fields__}


@pytest.fixture
async def workers(hook_pool: asyncpg.Pool, hook_invoicing: Invoicing) -> AsyncIterator[Workers]:
    started = Workers(hook_pool, hook_invoicing)
    yield started
    await started.stop()
