"""PDF rendering is fair between businesses and bounded (API.md "Limits and availability").

Real WeasyPrint in the pool's worker processes, through the whole app. Requests overlap for
real: they run inside the app's own event loop (see tests.invoicing_support.concurrently),
where a test can also look at the pool's load.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from litestar.testing import AsyncTestClient

from fastfaktura.adapters.pdf.pool import PdfRenderPool
from fastfaktura.api.app import create_app
from fastfaktura.api.services import services
from fastfaktura.config import PdfPoolSettings, Settings
from tests.conftest import Account
from tests.documents.support import LINE, invoice_for, pages_text, seller_account
from tests.helpers import assert_problem
from tests.invoicing_support import INVOICES

T = TypeVar("T")
LARGE = [{**LINE, "description": f"Lot {n:03d}"} for n in range(500)]


async def in_app_loop(client: AsyncTestClient[Any], work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` inside the app's event loop (the test client's portal), where requests
    overlap and the pool can be looked at; this test's loop waits in a thread meanwhile."""
    return await asyncio.to_thread(client.blocking_portal.call, work)


def http_in_app(client: AsyncTestClient[Any]) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=client.app)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=120)


def pdf_pool(client: AsyncTestClient[Any]) -> PdfRenderPool:
    return services(client.app.state).pdfs


async def until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the pool never reached the expected state"
        await asyncio.sleep(0.01)


async def test_a_one_line_pdf_is_served_before_any_of_another_business_s_8_large_ones(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    business_a = seller_account(new_account, "Small Business A")
    business_b = seller_account(new_account, "Busy Business B")
    small = await invoice_for(client, business_a)
    large = [await invoice_for(client, business_b, lines=LARGE) for _ in range(8)]

    async def scenario() -> None:
        async with http_in_app(client) as http:
            busy = [
                asyncio.create_task(
                    http.get(f"{INVOICES}/{invoice['id']}/pdf", headers=business_b.headers)
                )
                for invoice in large
            ]
            try:
                await asyncio.sleep(0.5)  # B's eight requests are in (each renders for seconds)
                started = time.perf_counter()
                response = await http.get(
                    f"{INVOICES}/{small['id']}/pdf", headers=business_a.headers
                )
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, response.text
                # Fairness, judged by order rather than by the clock (a loaded machine slows
                # both alike): A does not queue behind B, so none of B's PDFs is done yet.
                done = sum(task.done() for task in busy)
                assert done == 0, f"A waited {elapsed:.2f} s, behind {done} of B's PDFs"
                assert "Conseil" in pages_text(response.content)[0]
                # B holds as many workers as its cap allows (one fewer than there are: one
                # of two), and its other PDFs wait for their turn.
                pool = pdf_pool(client)
                cap = pool.settings.in_flight_per_business
                assert cap < pool.settings.workers
                assert pool.load().rendering_by_business == {business_b.business_id: cap}
                assert pool.load().waiting_by_business == {business_b.business_id: 8 - cap}
            finally:
                # B gives up: its waiting PDFs leave the queue, the ones rendering end.
                for task in busy:
                    task.cancel()
                await asyncio.gather(*busy, return_exceptions=True)
            assert pool.load().waiting == 0
            await until(lambda: pool.load().rendering == 0)

    await in_app_loop(client, scenario)


@pytest.fixture(scope="module")
async def small_pool_client(database_url: str) -> AsyncIterator[AsyncTestClient[Any]]:
    """A second app process on the same database, with a pool of one worker and a queue of
    two (one per business). The session's app runs the projections for both."""
    settings = Settings(
        database_url=database_url,
        public_base_url="http://testserver",
        pdf=PdfPoolSettings(workers=1, queue=2, business_queue=1, retry_after_seconds=7),
    )
    app = create_app(settings, database_url, run_projections=False)
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


async def test_a_full_queue_answers_503_with_retry_after_and_the_pool_serves_on(
    client: AsyncTestClient[Any],
    small_pool_client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
) -> None:
    business_a, business_b, business_c = (
        seller_account(new_account, name) for name in ("Business A", "Business B", "Business C")
    )
    slow = [await invoice_for(client, business_b, lines=LARGE[:200]) for _ in range(3)]
    small_a = await invoice_for(client, business_a)
    small_c = await invoice_for(client, business_c)
    pool = pdf_pool(small_pool_client)
    done_at: dict[str, float] = {}

    async def get(http: httpx.AsyncClient, account: Account, invoice: dict[str, Any]) -> Any:
        response = await http.get(f"{INVOICES}/{invoice['id']}/pdf", headers=account.headers)
        done_at[invoice["id"]] = time.perf_counter()
        return response

    async def scenario() -> tuple[list[httpx.Response], httpx.Response, httpx.Response]:
        async with http_in_app(small_pool_client) as http:
            b_first = asyncio.create_task(get(http, business_b, slow[0]))
            await until(lambda: pool.load().rendering == 1)
            b_second = asyncio.create_task(get(http, business_b, slow[1]))
            await until(lambda: pool.load().waiting == 1)
            # B's share of the queue (one) is taken: B's third PDF is refused at once ...
            b_third = await get(http, business_b, slow[2])
            # ... while A still gets in line, which fills the queue (two): C is refused.
            a_small = asyncio.create_task(get(http, business_a, small_a))
            await until(lambda: pool.load().waiting == 2)
            c_small = await get(http, business_c, small_c)
            b_answers = [await b_first, await b_second, b_third]
            return b_answers, await a_small, c_small

    (b_first, b_second, b_third), a_small, c_refused = await in_app_loop(
        small_pool_client, scenario
    )

    assert [b_first.status_code, b_second.status_code, a_small.status_code] == [200] * 3
    for refused in (b_third, c_refused):
        problem = assert_problem(refused, 503)
        assert problem["type"].endswith("/pdf-queue-full"), problem
        assert refused.headers["retry-after"] == "7"
    # A, never served before, went ahead of B's second PDF (round-robin between businesses).
    assert done_at[small_a["id"]] < done_at[slow[1]["id"]]
    # Nothing broke: the queue is empty, and the refused ones render when asked again.
    assert (pool.load().rendering, pool.load().waiting) == (0, 0)

    async def ask_again() -> httpx.Response:
        async with http_in_app(small_pool_client) as http:
            return await http.get(f"{INVOICES}/{small_c['id']}/pdf", headers=business_c.headers)

    again = await in_app_loop(small_pool_client, ask_again)
    assert again.status_code == 200, again.text
    assert again.content.startswith(b"%PDF-")


def test_the_code_a_worker_runs_loads_no_database_driver() -> None:
    """What a worker renders with (the module the fork server preloads, and all it imports)
    imports no database driver, and a job carries only the invoice's data: a worker has
    neither the means nor an address to open a database connection."""
    probe = (
        "import sys, fastfaktura.adapters.pdf.pool\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('asyncpg', 'psycopg', 'psycopg_pool', 'eventsourcing', 'sqlalchemy')))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert found.stdout.strip() == "[]", found.stdout


async def test_a_worker_killed_mid_render_answers_503_and_the_next_pdf_renders(
    client: AsyncTestClient[Any],
    small_pool_client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
) -> None:
    account = seller_account(new_account, "Business K")
    slow = await invoice_for(client, account, lines=LARGE[:200])
    pool = pdf_pool(small_pool_client)

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        async with http_in_app(small_pool_client) as http:
            url = f"{INVOICES}/{slow['id']}/pdf"
            killed = asyncio.create_task(http.get(url, headers=account.headers))
            await until(lambda: pool.load().rendering == 1)
            [worker] = pool.worker_pids()
            os.kill(worker, signal.SIGKILL)
            interrupted = await killed
            return interrupted, await http.get(url, headers=account.headers)

    interrupted, again = await in_app_loop(small_pool_client, scenario)

    problem = assert_problem(interrupted, 503)
    assert "interrupted" in problem["detail"]
    assert interrupted.headers["retry-after"] == "7"
    assert again.status_code == 200, again.text
    assert again.content.startswith(b"%PDF-")
    assert (pool.load().rendering, pool.load().waiting) == (0, 0)
