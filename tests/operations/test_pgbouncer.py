"""The service behind PgBouncer in transaction mode (docs/operations.md, "PgBouncer").

The test starts Debian's `pgbouncer` itself (`make pgbouncer` installs it; the test is skipped,
saying so, only when the binary is absent) on a free port in 6400-6499, with a generated ini and
userlist, in front of a fresh database on the suite's PostgreSQL, with only 3 server
connections: the API's 11 client connections take turns on them, so any statement that
outlives its transaction (a prepared statement, LISTEN, a session lock or SET) would break.

Then: `fastfaktura projections run --all` straight to PostgreSQL; `fastfaktura serve
--no-projections` with DATABASE_URL at PgBouncer and DATABASE_DIRECT_URL at PostgreSQL does the
quickstart (business, client, invoice, read, list, send, payment, events), and concurrent
invoice creation through PgBouncer stays gapless.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from fastfaktura.adapters.database import ConnectionParams
from tests.helpers import drop_database, free_port, fresh_database, run_cli, running, serving

PGBOUNCER_PORTS = range(6400, 6500)
API_PORTS = range(9400, 9500)
SERVER_CONNECTIONS = 3
CONCURRENT_INVOICES = 24


def pgbouncer_binary() -> str | None:
    found = shutil.which("pgbouncer")
    if found:
        return found
    debian = Path("/usr/sbin/pgbouncer")  # not on a non-root PATH
    return str(debian) if debian.exists() else None


@contextmanager
def pgbouncer(direct_url: str, log_path: Path) -> Iterator[str]:
    """PgBouncer (transaction pooling) in front of the database at `direct_url`; yields the
    URL that reaches the database through it."""
    binary = pgbouncer_binary()
    if binary is None:
        pytest.skip("pgbouncer is not installed (`make pgbouncer` installs Debian's package)")
    target = ConnectionParams.from_url(direct_url)
    port = free_port(PGBOUNCER_PORTS)
    # Not under pytest's 0700 basetemp: as root, PgBouncer runs as the embedded server's user.
    workdir = Path(tempfile.mkdtemp(prefix="ff-pgbouncer-"))
    workdir.chmod(0o755)
    userlist = workdir / "userlist.txt"
    userlist.write_text(f'"{target.user}" "{target.password}"\n')
    ini = workdir / "pgbouncer.ini"
    ini.write_text(
        "[databases]\n"
        f"{target.dbname} = host={target.host} port={target.port} dbname={target.dbname}"
        f" user={target.user}\n"
        "[pgbouncer]\n"
        "listen_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = trust\n"
        f"auth_file = {userlist}\n"
        "pool_mode = transaction\n"
        f"default_pool_size = {SERVER_CONNECTIONS}\n"
        "reserve_pool_size = 0\n"
        "max_client_conn = 200\n"
        # Per-connection server settings (statement_timeout as a startup parameter) are
        # refused by PgBouncer 1.18 unless listed here, and then dropped: see the docs.
        "ignore_startup_parameters = options,statement_timeout\n"
    )
    for path in (userlist, ini):
        path.chmod(0o644)
    # PgBouncer refuses to run as root; the embedded server's user can reach its socket.
    run_as = ["-u", "pgserver"] if os.geteuid() == 0 else []
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [binary, *run_as, str(ini)], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 15
            while True:
                assert process.poll() is None, log_path.read_text()
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        break
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.05)
            password = f":{target.password}" if target.password else ""
            yield f"postgresql://{target.user}{password}@127.0.0.1:{port}/{target.dbname}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def direct_url(database_url: str) -> Iterator[str]:
    url = fresh_database(database_url, "bouncer")
    yield url
    drop_database(database_url, url)


def quickstart(api: str, key: str) -> str:
    """README's quickstart through the API; returns the invoice's id."""
    headers = {"X-Api-Key": key}
    with httpx.Client(base_url=f"{api}/api/v1", headers=headers, timeout=30) as http:

        def ok(response: httpx.Response, status: int = 200) -> Any:
            assert response.status_code == status, f"{response.request.url}: {response.text}"
            return response.json()

        assert ok(http.get("/business"))["name"] == "Bounced"
        ok(http.put("/business", json={"email": "billing@bounced.example"}))
        client = ok(
            http.post(
                "/clients",
                json={"name": "Acme SARL", "email": "accounts@acme.example", "country": "FR"},
            ),
            201,
        )
        assert ok(http.get(f"/clients/{client['id']}"))["name"] == "Acme SARL"
        assert ok(http.get("/clients", params={"q": "acme"}))["total"] == 1
        line = {"description": "Consulting", "quantity": "1.5", "unit_price_cents": 50000}
        invoice = ok(
            http.post(
                "/invoices",
                json={
                    "client_id": client["id"],
                    "currency": "EUR",
                    "lines": [{**line, "tax_rate": "20"}],
                },
            ),
            201,
        )
        assert invoice["total_cents"] == 90000
        assert ok(http.get(f"/invoices/{invoice['id']}"))["number"] == invoice["number"]
        assert ok(http.get("/invoices"))["total"] == 1
        sent = ok(http.post(f"/invoices/{invoice['id']}/send", json={"channels": ["email"]}))
        assert sent["invoice"]["status"] == "sent"
        payment = {"amount_cents": 90000, "method": "bank_transfer"}
        paid = ok(http.post(f"/invoices/{invoice['id']}/payments", json=payment), 201)
        assert paid["status"] == "paid"
        events = [e["type"] for e in ok(http.get(f"/invoices/{invoice['id']}/events"))["data"]]
        assert events[0] == "created"
        assert {"sent", "payment_recorded", "paid"} <= set(events), events
        return str(invoice["id"])


async def create_invoices(api: str, key: str, count: int) -> list[httpx.Response]:
    headers = {"X-Api-Key": key}
    async with httpx.AsyncClient(base_url=f"{api}/api/v1", headers=headers, timeout=60) as http:
        client = await http.post("/clients", json={"name": "Many"})
        assert client.status_code == 201, client.text
        body = {
            "client_id": client.json()["id"],
            "currency": "EUR",
            "lines": [
                {"description": "x", "quantity": "1", "unit_price_cents": 100, "tax_rate": "0"}
            ],
        }
        return list(
            await asyncio.gather(*(http.post("/invoices", json=body) for _ in range(count)))
        )


def test_the_api_works_behind_pgbouncer_in_transaction_mode(
    direct_url: str, tmp_path: Path
) -> None:
    with pgbouncer(direct_url, tmp_path / "pgbouncer.log") as pooled_url:
        created = run_cli(direct_url, "accounts", "create", "--name", "Bounced", "--json")
        assert created.returncode == 0, created.stderr
        key = json.loads(created.stdout)["api_key"]
        api_env = {"DATABASE_DIRECT_URL": direct_url}
        with (
            running(["projections", "run", "--all"], direct_url, tmp_path / "projections.log"),
            serving(
                pooled_url,
                free_port(API_PORTS),
                tmp_path / "api.log",
                api_env,
                args=["--no-projections"],
            ) as api,
        ):
            quickstart(api, key)
            answers = asyncio.run(create_invoices(api, key, CONCURRENT_INVOICES))
            assert [a.status_code for a in answers] == [201] * CONCURRENT_INVOICES, [
                a.text for a in answers if a.status_code != 201
            ][:3]
            with httpx.Client(base_url=f"{api}/api/v1", headers={"X-Api-Key": key}) as http:
                listed = http.get("/invoices", params={"per_page": 100}).json()
        log = (tmp_path / "api.log").read_text()
    numbers = sorted(int(i["number"].rsplit("-", 1)[1]) for i in listed["data"])
    assert numbers == list(range(1, CONCURRENT_INVOICES + 2)), numbers
    assert "Traceback" not in log, log[-3000:]
    # The API really went through PgBouncer: its logins are there.
    bouncer_log = (tmp_path / "pgbouncer.log").read_text()
    assert f"login attempt: db={urlparse(direct_url).path.lstrip('/')}" in bouncer_log
