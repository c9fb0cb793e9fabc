"""Helpers shared by the API and operations tests (no fixtures: those live in conftest.py)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import httpx
import psycopg
from litestar.testing import AsyncTestClient
from psycopg import sql

from fastfaktura.adapters.database import migrate, start_embedded
from fastfaktura.application import Invoicing
from fastfaktura.event_reader import event_reader
from fastfaktura.readmodels.catchup import catch_up
from fastfaktura.readmodels.models import READ_MODELS
from tests.bench.environment import _stop_postgres
from tests.conftest import StoreProbe

PROBLEM_JSON = "application/problem+json"


def lagging_read_models(database_url: str) -> list[str]:
    """The read models that have not applied every event of their topics yet."""
    behind = []
    with psycopg.connect(database_url) as conn:
        for model in READ_MODELS:
            row = conn.execute(
                sql.SQL(
                    "SELECT notification_id FROM {} WHERE application_name = 'Invoicing'"
                ).format(sql.Identifier(model.tracking_table))
            ).fetchone()
            position = int(row[0] or 0) if row else 0
            head_row = conn.execute(
                "SELECT max(notification_id) FROM invoicing_events WHERE topic = ANY(%s)",
                (list(model.topics),),
            ).fetchone()
            head = int(head_row[0] or 0) if head_row else 0
            if position < head:
                behind.append(model.name)
    return behind


def pending_sandbox_deliveries(database_url: str) -> int:
    """Sandbox deliveries the in-process worker has not performed yet (it records events)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM rm_deliveries d JOIN rm_business b USING (business_id)"
            " WHERE d.status = 'pending' AND b.mode = 'sandbox'"
        ).fetchone()
        # A credit note's deliveries are in its row (migration 0017).
        notes = conn.execute(
            "SELECT count(*) FROM rm_credit_notes c JOIN rm_business b USING (business_id)"
            " WHERE c.deliveries @> '[{\"status\": \"pending\"}]' AND b.mode = 'sandbox'"
        ).fetchone()
    return (int(row[0]) if row else 0) + (int(notes[0]) if notes else 0)


def settle(database_url: str, timeout: float = 15.0, *, deliveries: bool = True) -> None:
    """Wait until the live projections have applied every event recorded so far, and (unless
    `deliveries` is off: no delivery worker runs) the delivery worker has performed every
    sandbox delivery (both write to the store)."""
    deadline = time.monotonic() + timeout
    while (behind := lagging_read_models(database_url)) or (
        deliveries and pending_sandbox_deliveries(database_url)
    ):
        assert time.monotonic() < deadline, f"still settling: lagging {behind}"
        time.sleep(0.01)


def problem_fields(response: httpx.Response) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """An RFC 9457 answer with that status: media type, and `status` repeated in the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"]
    return body


async def assert_rejected(
    client: AsyncTestClient[Any],
    store: StoreProbe,
    method: str,
    url: str,
    *,
    status: int,
    fields: Iterable[str] | None = None,
    **request: Any,
) -> dict[str, Any]:
    """Send a request that must be refused: the status, exactly the `fields` named (when given),
    and nothing left behind (no event, no read-model row)."""
    settle(store.database_url)
    before = store.snapshot()
    response = await client.request(method, url, **request)
    body = assert_problem(response, status)
    if fields is not None:
        assert sorted(problem_fields(response)) == sorted(fields), body
        assert all(error["message"] for error in body.get("errors", []))
    assert store.snapshot() == before
    return body


FASTFAKTURA = str(Path(sys.executable).with_name("fastfaktura"))
# Debian's Chromium (`make browser`), for the tests that open pages in a real browser.
CHROMIUM = Path("/usr/bin/chromium")


def run_cli(
    database_url: str, *args: str, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """The installed `fastfaktura` command, as an operator runs it, on the suite's database."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        # conftest gave the suite a private runtime dir (pgserver's lock lives there).
        "XDG_RUNTIME_DIR": os.environ["XDG_RUNTIME_DIR"],
        "FASTFAKTURA_HOME": os.environ["XDG_RUNTIME_DIR"],
    }
    return subprocess.run(
        [FASTFAKTURA, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def fresh_database(server_url: str, label: str) -> str:
    """A new, migrated database on the suite's server: for tests that run their own workers."""
    name = f"fastfaktura_{label}_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # name: built here, not user input
    url = urlunparse(urlparse(server_url)._replace(path="/" + name))
    migrate(url)
    return url


def drop_database(server_url: str, url: str) -> None:
    name = urlparse(url).path.lstrip("/")
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def caught_up_continuously(invoicing: Invoicing, url: str) -> Iterator[None]:
    """Keep every read model caught up with the store, in a thread, while the block runs
    (for an API-only app whose workers the test drives itself)."""
    stop = threading.Event()
    failures: list[BaseException] = []

    def run() -> None:
        while not stop.is_set():
            try:
                for model in READ_MODELS:
                    catch_up(event_reader(invoicing), url, model)
            except Exception as exc:  # reported at the end; settle() times out meanwhile
                failures.append(exc)
            stop.wait(0.01)

    thread = threading.Thread(target=run, name="read-models", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)
    assert not failures, failures


def free_port(ports: Iterable[int]) -> int:
    """The first port of `ports` nothing listens on yet. Under pytest-xdist each worker takes
    its own share of the range (every n-th port), so two workers never race for one port."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    index = int(worker[2:]) if worker.startswith("gw") else 0
    for port in ports:
        if port % count != index:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports}")


@contextmanager
def running(
    args: Iterable[str], database_url: str, log_path: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`fastfaktura ARGS` as a subprocess on the database, with no rate limits (plus `env`),
    stopped (SIGTERM, then killed) when the block ends."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "XDG_RUNTIME_DIR": os.environ["XDG_RUNTIME_DIR"],
        "FASTFAKTURA_HOME": os.environ["XDG_RUNTIME_DIR"],
        # A test's bursts are not a client's: tests/api/test_rate_limits.py tests the limits.
        "FASTFAKTURA_RATE_LIMIT_KEY_PER_SECOND": "0",
        "FASTFAKTURA_RATE_LIMIT_PAGE_PER_SECOND": "0",
        # `serve` in one process, as the tests were written for (and lean on 2 shared cores):
        # tests/operations/test_serve_processes.py asks for several with --workers.
        "FASTFAKTURA_WORKERS": "1",
        **(env or {}),
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [FASTFAKTURA, *args], env=environment, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@contextmanager
def serving(
    database_url: str,
    port: int,
    log_path: Path,
    env: dict[str, str] | None = None,
    args: Iterable[str] = (),
) -> Iterator[str]:
    """`fastfaktura serve` (plus `args`) as a subprocess on the database, with PUBLIC_BASE_URL
    pointing at it and no rate limits (plus `env`); yields its base URL once /health is 200, and
    stops it afterwards."""
    base = f"http://127.0.0.1:{port}"
    serve = ["serve", "--host", "127.0.0.1", "--port", str(port), *args]
    with running(
        serve, database_url, log_path, {"PUBLIC_BASE_URL": base, **(env or {})}
    ) as process:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        yield base


def chromium(url: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on `url` with a fresh profile, plus `args` (--dump-dom, ...)."""
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *args,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@contextmanager
def own_postgres() -> Iterator[str]:
    """A PostgreSQL of the caller's own (pgserver: max_connections 100, 3 reserved), migrated:
    for tests that count connections, which the rest of the suite's would disturb."""
    home = Path(tempfile.mkdtemp(prefix="ff-own-pg-"))
    home.chmod(0o755)  # as root the server runs as `pgserver`
    url = start_embedded(home)
    try:
        migrate(url)
        yield url
    finally:
        _stop_postgres(home / "pg")
