"""`fastfaktura serve --workers 2` (issue 12): one command starts two API processes on one port
and one projections-and-policies process. Each API process listens on a socket of its own
(SO_REUSEPORT: the kernel spreads connections over them) and names itself in every answer
(`Server-Process: PID`), so a test reaches each process on purpose, and proves which one
answered.

- a write through one API process is visible at once through the other, both ways;
- invoices created through one process and cancelled through the other, by several threads at
  once, get gapless, unique numbers, and every event they record reaches the read models,
  version for version;
- a killed API process is started again; SIGINT (Ctrl-C) stops them all and `serve` exits 0.

One server for the module, as starting the processes is what costs (about 20 s on 2 shared
cores); the load is a few dozen requests.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.helpers import free_port, own_postgres, run_cli, running, settle
from tests.invoicing_support import invoice_body

PORTS = range(9400, 9450)
CONNECT_TRIES = 64  # each new connection reaches a given one of 2 processes with odds 1/2


@dataclass
class Served:
    process: Any  # subprocess.Popen[bytes]
    port: int
    key: str
    log: Path
    api: set[int]
    database_url: str


@pytest.fixture(scope="module")
def own_database() -> Iterator[str]:
    # A server of its own: two API processes and the projections process may open 64
    # connections, more than the suite's shared server has left beside the other tests'.
    with own_postgres() as url:
        yield url


@pytest.fixture(scope="module")
def served(own_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    created = run_cli(own_database, "accounts", "create", "--name", "Cores", "--json")
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["api_key"]
    port = free_port(PORTS)
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    args = ["serve", "--workers", "2", "--host", "127.0.0.1", "--port", str(port)]
    with running(args, own_database, log) as serve:
        wait_until(lambda: healthy(serve, port, log), 90, "serve did not become healthy")
        wait_until(lambda: len(api_processes(serve.pid)) == 2, 10, "API processes")
        yield Served(serve, port, key, log, api_processes(serve.pid), own_database)


def healthy(serve: Any, port: int, log: Path) -> bool:
    assert serve.poll() is None, log.read_text()
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def children(parent: int) -> dict[int, str]:
    """The processes whose parent is `parent`: pid -> command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        # Field 4 of /proc/PID/stat is the parent's pid (after the command in parentheses).
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found[int(entry.name)] = cmdline
    return found


def api_processes(parent: int) -> set[int]:
    return {pid for pid, cmd in children(parent).items() if "--shared-port" in cmd}


def server_pid(server_port: int, client_port: int, candidates: set[int]) -> int | None:
    """Which of `candidates` holds the server end of the TCP connection from `client_port`."""
    wanted = f"0100007F:{server_port:04X}", f"0100007F:{client_port:04X}"
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if (fields[1], fields[2]) == wanted:
            inode = fields[9]
    if inode is None:
        return None
    for pid in candidates:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except FileNotFoundError:  # that process has just been replaced (restart)
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


class Pinned:
    """A keep-alive connection to one API process; each answer must name that process."""

    def __init__(self, served: Served, pid: int) -> None:
        self.served = served
        self.pid = pid
        conn = self.reach(served, pid)
        assert conn is not None, f"{CONNECT_TRIES} connections, none to process {pid}"
        self.conn = conn

    @staticmethod
    def reach(served: Served, pid: int) -> http.client.HTTPConnection | None:
        """A new connection that process `pid` holds, or None after CONNECT_TRIES: the kernel
        picks a listening socket by a hash of each new connection's addresses, so new
        connections (new source ports) until one lands on that process."""
        for _ in range(CONNECT_TRIES):
            conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
            conn.request("GET", "/health")
            answer = conn.getresponse()
            answer.read()
            served_by = int(answer.getheader("Server-Process", "0"))
            assert served_by in served.api, (served_by, served.api)
            if served_by == pid:
                # The header tells the truth: this process holds the connection's socket.
                client_port = conn.sock.getsockname()[1]
                assert server_pid(served.port, client_port, served.api) == pid
                return conn
            conn.close()
        return None

    def call(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        headers = {"X-Api-Key": self.served.key, "Content-Type": "application/json"}
        payload = None if body is None else json.dumps(body)
        self.conn.request(method, path, body=payload, headers=headers)
        answer = self.conn.getresponse()
        data = json.loads(answer.read())
        assert answer.getheader("Server-Process") == str(self.pid), "answered by another process"
        return answer.status, data

    def close(self) -> None:
        self.conn.close()


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_serve_runs_api_processes_and_projections_under_one_supervisor(served: Served) -> None:
    processes = children(served.process.pid)
    assert len(served.api) == 2, processes
    projections = [pid for pid, cmd in processes.items() if "projections run --all" in cmd]
    assert len(projections) == 1, processes
    # The plain `serve` answers name their process too (the projections process serves none).
    answer = httpx.get(f"http://127.0.0.1:{served.port}/health", timeout=5)
    assert int(answer.headers["Server-Process"]) in served.api


def test_a_write_through_one_process_is_read_at_once_through_the_other(served: Served) -> None:
    a, b = (Pinned(served, pid) for pid in sorted(served.api))
    try:
        for n in range(3):
            for writer, reader in ((a, b), (b, a)):
                status, written = writer.call("POST", "/api/v1/clients", {"name": f"C{n}"})
                assert status == 201, written
                status, read = reader.call("GET", f"/api/v1/clients/{written['id']}")
                assert (status, read) == (200, written)
                status, listed = reader.call("GET", "/api/v1/clients?per_page=100")
                assert written["id"] in [c["id"] for c in listed["data"]]
    finally:
        a.close()
        b.close()


PER_THREAD = 3
THREADS = 4  # half on each API process


def sequence(number: str) -> int:
    match = re.fullmatch(r"F\d{4}-(\d{5})", number)
    assert match, number
    return int(match[1])


def test_invoices_written_through_both_processes_at_once_get_gapless_numbers_and_projected(
    served: Served,
) -> None:
    # Each thread creates invoices through one process and cancels each through the other
    # (numbers are assigned at creation, API.md), all threads at once.
    first, second = sorted(served.api)
    pairs = [
        (Pinned(served, mine), Pinned(served, other))
        for mine, other in [(first, second), (second, first)] * (THREADS // 2)
    ]
    status, buyer = pairs[0][0].call("POST", "/api/v1/clients", {"name": "Rush"})
    assert status == 201, buyer
    start = threading.Barrier(THREADS)

    def create_and_cancel(pair: tuple[Pinned, Pinned]) -> list[dict[str, Any]]:
        mine, other = pair
        done = []
        start.wait(30)
        for _ in range(PER_THREAD):
            status, invoice = mine.call("POST", "/api/v1/invoices", invoice_body(buyer["id"]))
            assert status == 201, invoice
            path = f"/api/v1/invoices/{invoice['id']}/cancel"
            status, cancelled = other.call("POST", path, {"reason": "test"})
            assert (status, cancelled["number"]) == (200, invoice["number"]), cancelled
            done.append({**invoice, "process": mine.pid})
        return done

    try:
        with ThreadPoolExecutor(THREADS) as pool:
            invoices = [i for done in pool.map(create_and_cancel, pairs) for i in done]
    finally:
        for pair in pairs:
            for conn in pair:
                conn.close()
    assert {i["process"] for i in invoices} == served.api

    # Gapless and unique across processes: 1..N, this business's first invoices.
    count = THREADS * PER_THREAD
    assert sorted(sequence(i["number"]) for i in invoices) == list(range(1, count + 1))

    # Every event of these invoices reaches the read models: once caught up, each invoice's
    # timeline holds exactly the store's versions, and its row the last one, cancelled.
    settle(served.database_url, timeout=60)
    ids = [i["id"] for i in invoices]
    with psycopg.connect(served.database_url) as conn:
        stored = conn.execute(
            "SELECT originator_id::text, array_agg(originator_version ORDER BY originator_version)"
            " FROM invoicing_events WHERE originator_id::text = ANY(%s) GROUP BY 1",
            (ids,),
        ).fetchall()
        projected = conn.execute(
            "SELECT invoice_id::text, array_agg(version ORDER BY version) FROM rm_invoice_events"
            " WHERE invoice_id::text = ANY(%s) GROUP BY 1",
            (ids,),
        ).fetchall()
        rows = conn.execute(
            "SELECT id::text, version, status, number FROM rm_invoices WHERE id::text = ANY(%s)",
            (ids,),
        ).fetchall()
    store_versions = dict(stored)
    assert sorted(store_versions.values()) == [[1, 2]] * count
    assert dict(projected) == store_versions
    numbered = {i["id"]: i["number"] for i in invoices}
    assert {r[0]: (r[1], r[2], r[3]) for r in rows} == {
        i: (2, "cancelled", number) for i, number in numbered.items()
    }


def test_a_second_serve_on_the_port_is_refused_at_once(served: Served) -> None:
    # The port is busy with this module's `serve`, whose API processes listen with
    # SO_REUSEPORT: joining them would split the traffic between two services.
    port = str(served.port)
    refused = run_cli(
        served.database_url, "serve", "--workers", "2", "--host", "127.0.0.1", "--port", port
    )
    assert refused.returncode == 1
    assert f"port {port} on 127.0.0.1: Address already in use" in refused.stderr
    assert served.process.poll() is None


def test_a_killed_api_process_restarts_and_ctrl_c_stops_every_process(served: Served) -> None:
    serve = served.process
    first = min(served.api)
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: len(api_processes(serve.pid) - {first}) == 2, 30, "no API process restarted")
    assert "process exited: restarting it" in served.log.read_text()
    wait_until(lambda: healthy(serve, served.port, served.log), 60, "not healthy after restart")
    # The new process listens next to the survivor and gets its share of connections.
    (restarted,) = api_processes(serve.pid) - served.api
    served.api = api_processes(serve.pid)
    wait_until(lambda: healthy_process(served, restarted), 60, "the new process never answered")

    # Ctrl-C: every child stops, the supervisor exits 0.
    before = set(children(serve.pid))
    serve.send_signal(signal.SIGINT)
    assert serve.wait(timeout=60) == 0, served.log.read_text()
    still = [pid for pid in before if Path(f"/proc/{pid}").exists()]
    assert not still, served.log.read_text()


def healthy_process(served: Served, pid: int) -> bool:
    """Whether `pid` answers (a process just started does not listen yet)."""
    conn = Pinned.reach(served, pid)
    if conn is None:
        return False
    conn.close()
    return True


def test_more_api_processes_than_max_connections_allows_are_refused(own_database: str) -> None:
    # 9 API processes need 90 connections: with the projections process (44) and room for
    # one CLI command (9), more than the 97 a max_connections of 100 leaves.
    refused = run_cli(own_database, "serve", "--workers", "9", "--port", str(free_port(PORTS)))
    assert refused.returncode == 1
    assert "--workers 9: 9 API processes need 90 connections" in refused.stderr
    assert "max_connections" in refused.stderr
