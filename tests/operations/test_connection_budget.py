"""The connection budget (docs/operations.md, "Connection budget"), measured on real processes.

On a PostgreSQL of its own (max_connections=100, so the other tests' connections do not
count): four `fastfaktura serve --no-projections` on free ports in 9300-9399, one
`fastfaktura projections run --all`, and a `fastfaktura projections rebuild --all` while a
concurrent load (writes and reads, enough to fill every API pool) runs against the four API
processes. A sampler reads pg_stat_activity every 20 ms: the peak, per process (each names
itself in application_name) and in all, stays within the documented numbers, and no request
and not the rebuild fails.

Heavier than most (62-71 s measured on the 2 shared cores while other suites ran): most of it is
starting six Python processes and a PostgreSQL; the load itself is 6 s. Starting fewer would
not measure the deployment the budget is written for, so that run is a soak test (opt-in:
`make test-soak`); the checks of the documented numbers against the code stay in `make test`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import threading
import time
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from fastfaktura.readmodels.models import READ_MODELS
from tests.helpers import free_port, own_postgres, run_cli, running

PORTS = range(9300, 9400)
API_PROCESSES = 4
# docs/operations.md, "Connection budget", with the default settings (checked against
# fastfaktura.adapters.budget below, so the docs, the code and this test say the same).
DOCUMENTED = {"api": 10, "projections": 44, "cli": 9, "deployment": 93}
USABLE = 100 - 3  # max_connections less superuser_reserved_connections
LOAD_SECONDS = 6.0
CONCURRENCY = 48  # 12 per API process: more than its pools hold, so they fill up


def test_the_documented_numbers_are_what_the_pools_are_built_from() -> None:
    from fastfaktura.adapters import budget
    from fastfaktura.config import PoolSettings

    defaults = PoolSettings()
    models = len(READ_MODELS)
    assert {
        "api": budget.api(defaults),
        "projections": budget.projections(defaults, models),
        "cli": budget.cli(defaults),
        "deployment": budget.deployment(defaults, models, api_processes=API_PROCESSES),
    } == DOCUMENTED
    assert DOCUMENTED["deployment"] <= USABLE


def test_serve_with_n_api_processes_fits_the_embedded_postgresql() -> None:
    """`fastfaktura serve --workers N` (issue 12): N API processes and the projections process,
    10 N + 44 with the defaults; on the embedded PostgreSQL (97 usable) at most 4 leave room
    for one CLI rebuild, so the default (one per core) stops there."""
    from fastfaktura.adapters import budget
    from fastfaktura.config import PoolSettings

    defaults = PoolSettings()
    models = len(READ_MODELS)
    for n in (1, 2, 4):
        supervised = budget.supervised(defaults, models, n, projections_too=True)
        assert supervised == n * DOCUMENTED["api"] + DOCUMENTED["projections"]
    assert (
        budget.supervised(defaults, models, 4, projections_too=True) + DOCUMENTED["cli"]
        == (DOCUMENTED["deployment"])
    )
    assert budget.workers_that_fit(defaults, models, USABLE, projections_too=True) == 4
    assert budget.workers_that_fit(defaults, models, USABLE, projections_too=False) == 8
    assert budget.workers_that_fit(defaults, models, 60, projections_too=True) == 0


def test_pool_sizes_come_from_the_environment_and_bad_ones_are_refused() -> None:
    from fastfaktura.adapters import budget
    from fastfaktura.config import PoolSettings

    pools = PoolSettings.from_env(
        {
            "DATABASE_DIRECT_URL": "postgresql://db:5432/ff",
            "DATABASE_QUERY_POOL_SIZE": "3",
            "DATABASE_WRITE_POOL_SIZE": "1",
            "DATABASE_WRITE_POOL_OVERFLOW": "0",
            "DATABASE_POLICY_POOL_SIZE": "4",
            "DATABASE_CLI_WORKERS": "1",
        }
    )
    assert (pools.direct_url, pools.query, pools.write_max, pools.policies) == (
        "postgresql://db:5432/ff",
        3,
        1,
        4,
    )
    assert budget.api(pools) == 4
    assert PoolSettings.from_env({}) == PoolSettings()
    for name, value in (
        ("DATABASE_QUERY_POOL_SIZE", "0"),
        ("DATABASE_WRITE_POOL_OVERFLOW", "-1"),
        ("DATABASE_POLICY_POOL_SIZE", "3"),  # three workers each hold one for their lock
        ("DATABASE_WRITE_POOL_SIZE", "many"),
    ):
        with pytest.raises(ValueError, match=name):
            PoolSettings.from_env({name: value})


class Sampler:
    """Peak client connections in pg_stat_activity, per application_name and in all."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.peak_total = 0
        self.peaks: dict[str, int] = defaultdict(int)
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg_stat_activity", daemon=True)

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.is_set():
                rows = conn.execute(
                    "SELECT application_name, count(*) FROM pg_stat_activity"
                    " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
                    " GROUP BY 1"
                ).fetchall()
                self.peak_total = max(self.peak_total, sum(n for _, n in rows))
                for name, count in rows:
                    self.peaks[name] = max(self.peaks[name], count)
                self.samples += 1
                self._stop.wait(0.02)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def peak_of(self, role: str) -> dict[str, int]:
        """Peaks of the processes named `fastfaktura <role> <pid>`."""
        pattern = re.compile(rf"fastfaktura {re.escape(role)} \d+")
        return {name: n for name, n in self.peaks.items() if pattern.fullmatch(name)}


def wait_healthy(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


async def load(bases: list[str], key: str, seconds: float) -> dict[str, Any]:
    """CONCURRENCY workers, round-robin over the API processes: create a client, invoice it,
    read the invoice and a list page, again and again for `seconds`."""
    statuses: dict[int, int] = defaultdict(int)
    failures: list[str] = []
    headers = {"X-Api-Key": key}
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=CONCURRENCY)

    async def worker(n: int, http: httpx.AsyncClient) -> None:
        i = 0
        while time.monotonic() < deadline:
            api = f"{bases[(n + i) % len(bases)]}/api/v1"
            i += 1
            answers = []
            answer = await http.post(f"{api}/clients", headers=headers, json={"name": f"C{n}-{i}"})
            answers.append(answer)
            if answer.status_code == 201:
                client_id = answer.json()["id"]
                invoice = {
                    "client_id": client_id,
                    "currency": "EUR",
                    "lines": [
                        {
                            "description": "Work",
                            "quantity": "2",
                            "unit_price_cents": 1000,
                            "tax_rate": "20",
                        }
                    ],
                }
                answer = await http.post(f"{api}/invoices", headers=headers, json=invoice)
                answers.append(answer)
                if answer.status_code == 201:
                    invoice_id = answer.json()["id"]
                    answers.append(await http.get(f"{api}/invoices/{invoice_id}", headers=headers))
            answers.append(await http.get(f"{api}/invoices?per_page=20", headers=headers))
            for done in answers:
                statuses[done.status_code] += 1
                if done.status_code >= 300:
                    failures.append(f"{done.request.method} {done.request.url}: {done.text[:300]}")

    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        await asyncio.gather(*(worker(n, http) for n in range(CONCURRENCY)))
    return {"statuses": dict(statuses), "failures": failures}


@pytest.mark.soak
def test_four_api_processes_projections_and_a_rebuild_fit_in_max_connections(
    tmp_path: Path,
) -> None:
    # The documented defaults: no pool setting of the caller's environment leaks in.
    clean = {n: "" for n in os.environ if n.startswith("DATABASE_") and n != "DATABASE_URL"}
    # One PDF worker per process: PDFs open no connection, and five processes' worth of
    # default pools would only slow this test's start on two cores.
    clean["FASTFAKTURA_PDF_WORKERS"] = "1"
    with own_postgres() as url, ExitStack() as stack:
        created = run_cli(url, "accounts", "create", "--name", "Budget", "--json")
        assert created.returncode == 0, created.stderr
        key = json.loads(created.stdout)["api_key"]

        sampler = stack.enter_context(Sampler(url))
        projections_log = tmp_path / "projections.log"
        stack.enter_context(running(["projections", "run", "--all"], url, projections_log, clean))
        ports: list[int] = []
        for _ in range(API_PROCESSES):
            ports.append(free_port(p for p in PORTS if p not in ports))
        servers = []
        for port in ports:  # started together, awaited together: startup is the slow part
            log = tmp_path / f"api-{port}.log"
            args = ["serve", "--no-projections", "--host", "127.0.0.1", "--port", str(port)]
            process = stack.enter_context(running(args, url, log, clean))
            servers.append((process, log, f"http://127.0.0.1:{port}"))
        for process, log, base in servers:
            wait_healthy(base, process, log)
        bases = [base for _, _, base in servers]

        rebuilt: list[subprocess.CompletedProcess[str]] = []

        def rebuild_during_load() -> None:
            time.sleep(2.0)  # the pools are full by then
            rebuilt.append(run_cli(url, "projections", "rebuild", "--all", timeout=60))

        rebuilding = threading.Thread(target=rebuild_during_load)
        rebuilding.start()
        started = time.monotonic()
        result = asyncio.run(load(bases, key, LOAD_SECONDS))
        rebuilding.join(90)
        elapsed = time.monotonic() - started
        time.sleep(0.5)  # a last sample after the load

    api = sampler.peak_of("api")
    projections = sampler.peak_of("projections")
    rebuild = sampler.peak_of("projections rebuild")
    requests = sum(result["statuses"].values())
    print(
        f"\n{requests} requests in {elapsed:.1f} s {result['statuses']}; "
        f"{sampler.samples} samples; peak {sampler.peak_total} connections: "
        f"api {sorted(api.values())}, projections {list(projections.values())}, "
        f"rebuild {list(rebuild.values())}"
    )
    assert rebuilt, "the rebuild did not finish"
    assert rebuilt[0].returncode == 0, rebuilt[0].stderr
    assert not result["failures"], result["failures"][:5]
    assert requests > 100, result
    assert len(api) == API_PROCESSES, dict(sampler.peaks)
    assert max(api.values()) <= DOCUMENTED["api"], api
    assert len(projections) == 1, dict(sampler.peaks)
    assert max(projections.values()) <= DOCUMENTED["projections"], projections
    assert len(rebuild) == 1, dict(sampler.peaks)
    assert max(rebuild.values()) <= DOCUMENTED["cli"], rebuild
    assert sampler.peak_total <= DOCUMENTED["deployment"], dict(sampler.peaks)
