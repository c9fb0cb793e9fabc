"""A real streaming replica next to the suite's PostgreSQL (docs/operations.md, "A read
replica"): list and detail reads are served by it, read-your-writes holds while its replay is
paused (the write waits its bound, then reads go to the primary), a read that fails on a
trusted replica runs again on the primary, and the service keeps answering when the replica is
gone.

The replica is made the way an operator makes one: `pg_basebackup -R` (a standby.signal and
primary_conninfo) with the binaries of the `pgserver` wheel that runs the primary, then
`pg_ctl start`. It costs about 10 s, once for the module.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse, urlunparse

import asyncpg
import psycopg
import pytest
from litestar.testing import AsyncTestClient

from fastfaktura.adapters.database import migrate, start_embedded
from fastfaktura.adapters.replica import ReplicaRouter
from fastfaktura.api.app import create_app
from fastfaktura.config import PdfPoolSettings, RateLimitSettings, ReplicaSettings, Settings
from fastfaktura.event_reader import event_reader
from fastfaktura.readmodels.catchup import catch_up
from fastfaktura.readmodels.models import READ_MODELS
from tests.conftest import Account, invoicing_on

# Long enough that one check (a primary and a replica round trip) fits in it on a loaded machine.
WAIT_SECONDS = 1.5


def _binaries() -> Path:
    import pgserver

    return Path(pgserver.__file__).parent / "pginstall" / "bin"


def _as_server_user(*argv: str) -> subprocess.CompletedProcess[str]:
    """PostgreSQL refuses to run as root: the embedded server runs as `pgserver` then."""
    prefix = ["runuser", "-u", "pgserver", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=120)


def _socket_dir(url: str) -> str | None:
    hosts = parse_qs(urlparse(url).query).get("host", [])
    return hosts[0] if hosts and hosts[0].startswith("/") else None


@pytest.fixture(scope="module")
def primary_url(database_url: str) -> str:
    """The suite's server when it is the embedded one (its binaries are the wheel's), else an
    embedded server of its own (a replica needs the primary's major version)."""
    if _socket_dir(database_url) is not None:
        return database_url
    home = Path(tempfile.mkdtemp(prefix="ff-primary-"))
    home.chmod(0o755)
    url = start_embedded(home)
    migrate(url)
    return url


@pytest.fixture(scope="module")
def replica_url(primary_url: str) -> Iterator[str]:
    workdir = Path(tempfile.mkdtemp(prefix="ff-replica-"))
    workdir.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(workdir, "pgserver", "pgserver")
    data = workdir / "data"
    bin_dir = _binaries()
    socket_dir = _socket_dir(primary_url)
    assert socket_dir is not None
    user = urlparse(primary_url).username or "postgres"
    copied = _as_server_user(
        str(bin_dir / "pg_basebackup"),
        *("-D", str(data), "-R", "-X", "stream", "-c", "fast"),
        *("-h", socket_dir, "-U", user),
    )
    assert copied.returncode == 0, copied.stderr
    started = _as_server_user(
        str(bin_dir / "pg_ctl"),
        *("-D", str(data), "-w", "-t", "60", "-l", str(workdir / "log")),
        *("-o", f'-h "" -k {workdir}', "start"),
    )
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield urlunparse(urlparse(primary_url)._replace(query=f"host={workdir}"))
    finally:
        _as_server_user(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(workdir, ignore_errors=True)


def stop_replica(replica_url: str) -> None:
    data = Path(_socket_dir(replica_url) or "") / "data"
    stopped = _as_server_user(
        str(_binaries() / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"
    )
    assert stopped.returncode == 0, stopped.stderr


@pytest.fixture(scope="module")
async def api(primary_url: str, replica_url: str) -> AsyncIterator[AsyncTestClient[Any]]:
    settings = Settings(
        database_url=primary_url,
        public_base_url="http://testserver",
        rate_limits=RateLimitSettings.off(),
        pdf=PdfPoolSettings(workers=1),  # no PDF here: the pool's start and stop cost seconds
        replica=ReplicaSettings(url=replica_url, wait_seconds=WAIT_SECONDS),
    )
    async with AsyncTestClient(app=create_app(settings, primary_url)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def account(primary_url: str) -> Account:
    """A business on the primary, visible to the API at once (as conftest's `account`)."""
    with invoicing_on(primary_url) as invoicing:
        issued = invoicing.register_business("Replica Reads", "sandbox").value
        for model in READ_MODELS:
            catch_up(event_reader(invoicing), primary_url, model)
    return Account(issued.business_id, issued.secret, issued.prefix)


async def _health(api: AsyncTestClient[Any]) -> dict[str, Any]:
    answer = await api.get("/health")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _until_reads_go_to(api: AsyncTestClient[Any], where: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        replica = (await _health(api))["replica"]
        if replica["reads"] == where or time.monotonic() > deadline:
            return dict(replica)
        await asyncio.sleep(0.05)


def _on(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


async def _new_client(api: AsyncTestClient[Any], account: Account, name: str) -> str:
    made = await api.post("/api/v1/clients", headers=account.headers, json={"name": name})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def test_list_and_detail_reads_are_served_by_the_replica(
    api: AsyncTestClient[Any], replica_url: str, primary_url: str, account: Account
) -> None:
    replica = await _until_reads_go_to(api, "replica")
    assert (replica["status"], replica["lag_bytes"] >= 0) == ("current", True), replica
    client_id = await _new_client(api, account, "Replica Reads SARL")

    database = urlparse(primary_url).path.lstrip("/")
    [(before,)] = _on(replica_url, "SELECT clock_timestamp()")
    found = await api.get(f"/api/v1/clients/{client_id}", headers=account.headers)
    assert (found.status_code, found.json()["name"]) == (200, "Replica Reads SARL")
    # Where the read ran: only reads use the pool named fastfaktura-read (the positions have a
    # pool of their own), and one of its backends on the replica worked during the GET.
    [(used,)] = _on(
        replica_url,
        "SELECT max(query_start) FROM pg_stat_activity"
        " WHERE application_name = 'fastfaktura-read' AND datname = %s",
        database,
    )
    assert used is not None
    assert used > before, (used, before)
    on_primary = _on(
        primary_url,
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE application_name IN ('fastfaktura-read', 'fastfaktura-probe')",
    )
    assert on_primary == [(0,)]

    listed = await api.get("/api/v1/clients", headers=account.headers)
    assert client_id in [c["id"] for c in listed.json()["data"]]


async def test_read_your_writes_holds_while_the_replica_is_paused(
    api: AsyncTestClient[Any], replica_url: str, account: Account
) -> None:
    await _until_reads_go_to(api, "replica")
    client_id = await _new_client(api, account, "Before Pause")
    _on(replica_url, "SELECT pg_wal_replay_pause()")
    try:
        started = time.monotonic()
        renamed = await api.put(
            f"/api/v1/clients/{client_id}", headers=account.headers, json={"name": "After Pause"}
        )
        assert renamed.status_code == 200, renamed.text
        # The write waited for the replica as long as the bound allows, then answered.
        assert time.monotonic() - started >= WAIT_SECONDS

        found = await api.get(f"/api/v1/clients/{client_id}", headers=account.headers)
        assert found.json()["name"] == "After Pause"
        # ... which the replica does not show: that answer came from the primary.
        stale = _on(replica_url, "SELECT name FROM rm_clients WHERE id = %s", client_id)
        assert stale == [("Before Pause",)]
        replica = (await _health(api))["replica"]
        assert (replica["reads"], replica["status"]) == ("primary", "behind"), replica
    finally:
        _on(replica_url, "SELECT pg_wal_replay_resume()")
    assert (await _until_reads_go_to(api, "replica"))["reads"] == "replica"
    found = await api.get(f"/api/v1/clients/{client_id}", headers=account.headers)
    assert found.json()["name"] == "After Pause"


async def test_everything_keeps_working_when_the_replica_goes_away(
    api: AsyncTestClient[Any], primary_url: str, replica_url: str, account: Account
) -> None:
    await _until_reads_go_to(api, "replica")
    client_id = await _new_client(api, account, "Replica Gone")
    # A router of its own, without the background checks, so that its trust is known: a read
    # that fails on a trusted replica runs again on the primary.
    primary, reads, probe = [
        await asyncpg.create_pool(url, min_size=1, max_size=1)
        for url in (primary_url, replica_url, replica_url)
    ]
    router = ReplicaRouter(primary, reads, probe, wait=30.0)
    try:
        assert await router.check()
        in_recovery = "SELECT pg_is_in_recovery()"
        assert await router.read(lambda db: db.fetchval(in_recovery)) is True
        stop_replica(replica_url)
        assert await router.read(lambda db: db.fetchval(in_recovery)) is False
        assert not router.trusted
    finally:
        for pool in (primary, reads, probe):
            pool.terminate()

    found = await api.get(f"/api/v1/clients/{client_id}", headers=account.headers)
    assert (found.status_code, found.json()["name"]) == (200, "Replica Gone")
    other = await _new_client(api, account, "Written Without Replica")
    listed = await api.get("/api/v1/clients", headers=account.headers)
    assert listed.status_code == 200
    assert {client_id, other} <= {c["id"] for c in listed.json()["data"]}
    for path in ("/api/v1/business", "/api/v1/invoices", "/api/v1/credit_notes"):
        assert (await api.get(path, headers=account.headers)).status_code == 200, path
    replica = (await _health(api))["replica"]
    assert (replica["status"], replica["reads"]) == ("unreachable", "primary"), replica
