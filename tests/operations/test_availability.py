"""The database stopped, frozen or killed (API.md "Limits and availability"): answers are 503
with Retry-After within the deadline (never 500, never a hang), the public page answers HTML,
/health answers 503 degraded, and everything recovers by itself once PostgreSQL is back.

Each test runs `fastfaktura serve` (API, projections, workers; requests really concurrent) on a
PostgreSQL of this module's own, which it stops, freezes (SIGSTOP) and kills: the suite's
shared server is never touched. The deadline is set to 1 s
(FASTFAKTURA_DATABASE_TIMEOUT_SECONDS) so that the waits stay short.

A soak run (about 100 s on 2 cores: a PostgreSQL and three `serve` processes of its own, each
stopped or crashed and recovered): opt-in with `make test-soak`, not part of `make test`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psutil
import psycopg
import pytest
from pgserver._commands import pg_ctl

from fastfaktura.adapters.database import migrate, start_embedded
from fastfaktura.event_reader import event_reader
from fastfaktura.readmodels.catchup import catch_up
from fastfaktura.readmodels.models import READ_MODELS
from tests.conftest import invoicing_on
from tests.helpers import assert_problem, free_port, serving

DEADLINE = 1.0
# An answer "within the deadline": the deadline, plus room for a loaded test machine.
ANSWER_WITHIN = DEADLINE + 2.5
RECOVERY_WITHIN = 10.0
PORTS = range(8900, 9000)

pytestmark = pytest.mark.soak
LINE = {"description": "Work", "quantity": 1, "unit_price_cents": 10000, "tax_rate": 20}


@dataclass
class OwnServer:
    """An embedded PostgreSQL of this module's own, which the tests may stop, freeze, kill."""

    pgdata: Path
    url: str
    # Where its Unix socket lives (postmaster.pid, line 5): needed to start it again.
    socket_dir: str = ""

    def __post_init__(self) -> None:
        self.socket_dir = self.socket_dir or self._pid_file()[4]

    @property
    def log(self) -> Path:
        return self.pgdata / "log"

    def _pid_file(self) -> list[str]:
        return (self.pgdata / "postmaster.pid").read_text().splitlines()

    def processes(self) -> list[psutil.Process]:
        postmaster = psutil.Process(int(self._pid_file()[0]))
        return [postmaster, *postmaster.children(recursive=True)]

    def _system_user(self) -> str | None:
        # pgserver runs the server as `pgserver` when the suite runs as root.
        return "pgserver" if os.geteuid() == 0 else None

    def stop(self) -> None:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._system_user())

    def start(self) -> None:
        pg_ctl(
            [
                "-w",
                "-o",
                '-h ""',
                "-o",
                f"-k {self.socket_dir}",
                "-l",
                str(self.pgdata / "log"),
                "start",
            ],
            pgdata=self.pgdata,
            user=self._system_user(),
            timeout=30,
        )

    def signal_all(self, signum: int) -> None:
        for process in self.processes():
            with suppress(psutil.NoSuchProcess):
                process.send_signal(signum)

    @contextmanager
    def frozen(self) -> Iterator[None]:
        processes = self.processes()
        for process in processes:
            process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            for process in processes:
                with suppress(psutil.NoSuchProcess):
                    process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """kill -9 of the whole server (a crash): PostgreSQL recovers from its WAL on start."""
        for process in self.processes():
            with suppress(psutil.NoSuchProcess):
                process.kill()
        psutil.wait_procs(self.processes_or_none(), timeout=10)

    def processes_or_none(self) -> list[psutil.Process]:
        try:
            return self.processes()
        except (psutil.NoSuchProcess, FileNotFoundError, ValueError):
            return []


@pytest.fixture(scope="module")
def own_server() -> Iterator[OwnServer]:
    home = Path(tempfile.mkdtemp(prefix="ff-avail-"))
    home.chmod(0o755)
    url = start_embedded(home)
    migrate(url)
    server = OwnServer(home / "pg", url)
    yield server
    # pgserver stops only the postmaster it started itself: the tests restarted it.
    server.signal_all(signal.SIGCONT)
    if server.processes_or_none():
        server.stop()


@pytest.fixture
def running(own_server: OwnServer) -> Iterator[OwnServer]:
    """The server, running and thawed before and after the test, whatever the test did."""
    _ensure_running(own_server)
    yield own_server
    own_server.signal_all(signal.SIGCONT)
    _ensure_running(own_server)


def _ensure_running(server: OwnServer) -> None:
    processes = server.processes_or_none()
    if processes and all(p.is_running() for p in processes[:1]):
        try:
            with psycopg.connect(server.url, connect_timeout=5):
                return
        except psycopg.OperationalError:
            pass
    server.start()


@asynccontextmanager
async def service(url: str, log_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """`fastfaktura serve` with a 1 s database deadline, once /health says ok. The public
    pages' per-address limit is on (high enough never to refuse): its bucket is the first
    database call of a page view, which must answer the HTML 503 too."""
    env = {
        "FASTFAKTURA_DATABASE_TIMEOUT_SECONDS": str(DEADLINE),
        "FASTFAKTURA_RATE_LIMIT_PAGE_PER_SECOND": "10000",
        "FASTFAKTURA_RATE_LIMIT_PAGE_BURST": "10000",
    }
    with serving(url, free_port(PORTS), log_path, env) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            yield client


async def healthy(client: httpx.AsyncClient) -> bool:
    return (await client.get("/health")).status_code == 200


async def until(check: Callable[[], Awaitable[bool]], what: str, within: float) -> float:
    """Seconds until `check()` holds; fails after `within` seconds."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < within, f"not within {within} s: {what}"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def timed(request: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await request
    return response, time.monotonic() - started


def new_account(url: str) -> dict[str, str]:
    with invoicing_on(url) as app:
        issued = app.register_business("Availability AB", "sandbox").value
        for model in READ_MODELS:
            catch_up(event_reader(app), url, model)
    return {"X-Api-Key": issued.secret}


async def sent_invoice(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    customer = await client.post("/api/v1/clients", json={"name": "Acme"}, headers=headers)
    assert customer.status_code == 201, customer.text
    invoice = await client.post(
        "/api/v1/invoices",
        json={"client_id": customer.json()["id"], "currency": "EUR", "lines": [LINE]},
        headers=headers,
    )
    assert invoice.status_code == 201, invoice.text
    sent = await client.post(
        f"/api/v1/invoices/{invoice.json()['id']}/send",
        json={"channels": ["link"]},
        headers=headers,
    )
    assert sent.status_code == 200, sent.text
    body: dict[str, Any] = sent.json()["invoice"]
    return body


def assert_unavailable(response: httpx.Response) -> None:
    """503 problem+json with a Retry-After of whole seconds."""
    body = assert_problem(response, 503)
    assert body["type"].endswith("/database-unavailable"), body
    assert int(response.headers["retry-after"]) > 0


def assert_unavailable_page(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("text/html"), response.headers
    assert int(response.headers["retry-after"]) > 0
    assert "<html" in response.text
    assert "try again" in response.text


async def assert_degraded(client: httpx.AsyncClient) -> None:
    health, took = await timed(client.get("/health"))
    assert health.status_code == 503, health.text
    assert health.json()["status"] == "degraded"
    assert took < ANSWER_WITHIN, took


async def assert_everything_unavailable(
    client: httpx.AsyncClient, headers: dict[str, str], invoice: dict[str, Any]
) -> None:
    """Reads, writes (API and public page) and /health: each answered within the deadline."""
    requests: list[Awaitable[httpx.Response]] = [
        client.get("/api/v1/invoices", headers=headers),
        client.get(f"/api/v1/invoices/{invoice['id']}", headers=headers),
        client.post("/api/v1/clients", json={"name": "Down Ltd"}, headers=headers),
        client.put("/api/v1/business", json={"email": "a@b.example"}, headers=headers),
    ]
    # More concurrent requests than the read pool has connections (20): none waits longer.
    requests += [client.get("/api/v1/clients", headers=headers) for _ in range(25)]
    answers = await asyncio.gather(*(timed(r) for r in requests))
    for response, took in answers:
        assert_unavailable(response)
        assert took < ANSWER_WITHIN, (took, response.request.url)
    page, took = await timed(client.get(invoice["public_url"], headers={"Accept-Language": "en"}))
    assert_unavailable_page(page)
    assert took < ANSWER_WITHIN, took
    await assert_degraded(client)
    slowest = max(took for _, took in answers)
    print(f"{len(answers)} concurrent requests answered 503, the slowest in {slowest:.2f} s")


async def assert_recovered(
    client: httpx.AsyncClient, headers: dict[str, str], invoice: dict[str, Any]
) -> float:
    """Seconds until reads, writes (read back at once: the projections run again), the public
    page and /health all work again."""

    async def works() -> bool:
        created = await client.post("/api/v1/clients", json={"name": "Back Ltd"}, headers=headers)
        if created.status_code != 201:
            assert created.status_code == 503, created.text
            return False
        read = await client.get(f"/api/v1/clients/{created.json()['id']}", headers=headers)
        page = await client.get(invoice["public_url"])
        return read.status_code == 200 and page.status_code == 200 and await healthy(client)

    return await until(works, "recovery", RECOVERY_WITHIN)


async def test_stopped_database_answers_503_then_recovers(
    running: OwnServer, tmp_path: Path
) -> None:
    headers = new_account(running.url)
    async with service(running.url, tmp_path / "serve.log") as client:
        invoice = await sent_invoice(client, headers)
        running.stop()
        try:
            await assert_everything_unavailable(client, headers, invoice)
            # Still so a while later (projections and workers failing meanwhile).
            await asyncio.sleep(2)
            await assert_everything_unavailable(client, headers, invoice)
        finally:
            running.start()
        took = await assert_recovered(client, headers, invoice)
        print(f"recovered {took:.2f} s after the restart")


async def test_frozen_database_answers_503_within_the_deadline_then_recovers(
    running: OwnServer,
    tmp_path: Path,
) -> None:
    headers = new_account(running.url)
    async with service(running.url, tmp_path / "serve.log") as client:
        invoice = await sent_invoice(client, headers)
        with running.frozen():
            await assert_everything_unavailable(client, headers, invoice)
        took = await assert_recovered(client, headers, invoice)
        print(f"recovered {took:.2f} s after SIGCONT")


async def test_kill_9_mid_burst_loses_no_answered_write_and_leaves_no_gap(
    running: OwnServer,
    tmp_path: Path,
) -> None:
    headers = new_account(running.url)
    async with service(running.url, tmp_path / "serve.log") as client:
        invoice = await sent_invoice(client, headers)
        customer = await client.post("/api/v1/clients", json={"name": "Burst"}, headers=headers)
        body = {"client_id": customer.json()["id"], "currency": "EUR", "lines": [LINE]}

        async def create() -> httpx.Response:
            return await client.post("/api/v1/invoices", json=body, headers=headers)

        burst = [asyncio.create_task(create()) for _ in range(40)]
        # Kill once the first writes are answered: the rest are in flight or queued.
        await asyncio.wait(burst, return_when=asyncio.FIRST_COMPLETED)
        running.kill()
        try:
            answers = await asyncio.wait_for(asyncio.gather(*burst), 30)
        finally:
            running.start()
        statuses = sorted({response.status_code for response in answers})
        assert set(statuses) <= {201, 503}, [r.text for r in answers if r.status_code >= 500]
        created = [UUID(r.json()["id"]) for r in answers if r.status_code == 201]
        print(f"burst: {len(created)} answered 201, {len(answers) - len(created)} answered 503")
        assert created, statuses
        assert 503 in statuses, statuses
        took = await assert_recovered(client, headers, invoice)
        print(f"recovered {took:.2f} s after the restart")

    # The read model may still be applying the last events: bring it up to date first.
    with invoicing_on(running.url) as app:
        for model in READ_MODELS:
            catch_up(event_reader(app), running.url, model)
    with psycopg.connect(running.url) as conn:
        recorded = {
            row[0]
            for row in conn.execute(
                "SELECT originator_id FROM invoicing_events"
                " WHERE topic = 'fastfaktura:Invoice.Created'"
            )
        }
        # Every write answered 201 survived the crash.
        assert set(created) <= recorded
        # This business's invoices (the module's server holds other tests' too): every one
        # recorded is in the read model, numbered 1..n without a gap.
        business = conn.execute(
            "SELECT business_id FROM rm_invoices WHERE id = %s", (created[0],)
        ).fetchone()
        assert business is not None
        rows = conn.execute(
            "SELECT id, number FROM rm_invoices WHERE business_id = %s", (business[0],)
        ).fetchall()
    assert {row[0] for row in rows} <= recorded
    assert set(created) <= {row[0] for row in rows}
    numbers = sorted(int(row[1].rsplit("-", 1)[1]) for row in rows)
    assert numbers == list(range(1, len(rows) + 1)), numbers
