"""What the bench runs against: a fresh embedded PostgreSQL, migrated, a business with its API key,
and a real `fastfaktura serve` subprocess on 127.0.0.1. Everything is stopped on exit or error.

Scenarios may add more HTTP processes (`HttpProcess`, e.g. the bare baseline app, or a second
`fastfaktura serve` on another database) and more embedded clusters (`start_cluster`: one
`fastfaktura serve` alone holds about half of a cluster's 100 connections); they are stopped on
exit too (`defer`).
"""

from __future__ import annotations

import atexit
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import psutil

from tests.bench.figures import CpuWindow

PORTS = range(8400, 8500)  # the bench's servers only ever listen in 8400-8499
HOST = "127.0.0.1"


def private_runtime_dir() -> Path:
    """pgserver keeps an inter-process lock in $XDG_RUNTIME_DIR: use a private one (0700).

    Must run before pgserver is imported (it reads the path at import time)."""
    runtime = Path(tempfile.mkdtemp(prefix="ff-bench-run-"))
    runtime.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    # Registered before pgserver's own exit handler, so it runs after it (that one relocks).
    atexit.register(shutil.rmtree, runtime, ignore_errors=True)
    return runtime


def free_port() -> int:
    candidates = list(PORTS)
    random.shuffle(candidates)  # other people use this range too
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def fastfaktura_command() -> list[str]:
    script = Path(sys.executable).parent / "fastfaktura"
    return [str(script)] if script.exists() else [sys.executable, "-m", "fastfaktura.cli"]


# adapters/pdf/pool.py logs it once its workers are up, once per API process.
PDF_POOL_STARTED = "pdf pool started"


def wait_for_log(path: Path, text: str, timeout: float, count: int = 1) -> None:
    """Until `text` is in the log `count` times."""
    deadline = time.monotonic() + timeout
    while path.read_text(errors="replace").count(text) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path}: not {count} x {text!r} within {timeout} s")
        time.sleep(0.2)


@dataclass(frozen=True)
class Account:
    business_id: str
    api_key: str


class HttpProcess:
    """An HTTP server subprocess on 127.0.0.1, in its own session (a Ctrl-C in the terminal is
    handled by the bench, not by it): started, awaited until `health` answers 200, stopped with
    SIGINT (uvicorn's graceful shutdown, which runs the lifespan exit), killed if it hangs."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        env: Mapping[str, str],
        port: int,
        log_path: Path,
        health: str = "/health",
    ) -> None:
        self.name = name
        self.command = list(command)
        self.env = dict(env)
        self.port = port
        self.log_path = log_path
        self.health = health
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, timeout: float = 90) -> HttpProcess:
        with self.log_path.open("wb") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        status: object = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(self.base_url + self.health, timeout=5) as response:
                    status = response.status
                    if status == 200:
                        return
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError as exc:
                status = exc
            time.sleep(0.1)
        raise RuntimeError(
            f"{self.name}: GET {self.health} not 200 after {timeout} s ({status}):\n"
            f"{self.log_tail()}"
        )

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Idempotent: stops the process if it is still running."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


REPO = Path(__file__).resolve().parents[2]


class Environment:
    """Context manager: database, account and server up on enter, all stopped on exit."""

    def __init__(self, say: Callable[[str], None], *, serve: bool = True) -> None:
        """`serve` False: no main database, account nor `fastfaktura serve`, for a run whose
        scenarios all work on clusters of their own (`start_cluster`): it starts sooner."""
        self.say = say
        self.serve_main = serve
        self._stack = ExitStack()
        self.workdir = Path(tempfile.mkdtemp(prefix="ff-bench-"))
        self.database_url = ""
        self.port = 0
        self.account = Account("", "")
        self.server: HttpProcess | None = None
        self.postgres_pid: int | None = None
        self.server_log = self.workdir / "server.log"
        self.started = time.perf_counter()

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def __enter__(self) -> Environment:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None and self.server is not None:
            self.say(f"the run failed; the server's log ends with:\n{self.log_tail()}")
        self.close()

    def _start(self) -> None:
        from fastfaktura.adapters.database import migrate, start_embedded

        self._stack.callback(shutil.rmtree, self.workdir, ignore_errors=True)
        if not self.serve_main:
            self.say("no selected scenario needs the main server: neither it nor its database")
            return
        started = time.perf_counter()
        self.database_url = start_embedded(self.workdir)
        self._stack.callback(_stop_postgres, self.workdir / "pg")
        self.postgres_pid = _postmaster_pid(self.workdir / "pg")
        migrate(self.database_url)
        self.say(f"embedded PostgreSQL up and migrated in {time.perf_counter() - started:.1f} s")

        env = self.cli_env(self.database_url)
        created = subprocess.run(
            [*fastfaktura_command(), "accounts", "create", "--name", "Bench", "--json"],
            env=env,
            capture_output=True,
            check=False,
            timeout=120,
        )
        if created.returncode != 0:
            raise RuntimeError(f"accounts create failed: {created.stderr.decode()[-2000:]}")
        issued = json.loads(created.stdout.decode().strip().splitlines()[-1])
        self.account = Account(issued["business_id"], issued["api_key"])

        self.port = free_port()
        self.server = self.serve("fastfaktura serve", self.database_url, self.port, self.server_log)
        self.say(
            f"fastfaktura serve (pid {self.server.pid}) healthy on {self.base_url} "
            f"{time.perf_counter() - started:.1f} s after start"
        )

    def cli_env(self, database_url: str) -> dict[str, str]:
        """The environment of a `fastfaktura` subprocess on that database. No rate limits: the
        bench sends far more than 100 requests/s on its one key (`rate_limit_overhead` runs a
        server with them)."""
        return {
            **os.environ,
            "DATABASE_URL": database_url,
            "FASTFAKTURA_HOME": str(self.workdir / "home"),
            "FASTFAKTURA_RATE_LIMIT_KEY_PER_SECOND": "0",
            "FASTFAKTURA_RATE_LIMIT_PAGE_PER_SECOND": "0",
            # One process unless a scenario asks for more (`--workers`, the scaling table).
            "FASTFAKTURA_WORKERS": "1",
        }

    def serve(
        self,
        name: str,
        database_url: str,
        port: int,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        *,
        api_processes: int = 1,
    ) -> HttpProcess:
        """A `fastfaktura serve` on that database and port (plus `env` and `args`), healthy and
        settled: each of its `api_processes` has loaded its PDF workers (they load WeasyPrint
        in the background after /health answers, seconds of CPU that would fall in the first
        window). Stopped on exit at the latest (stop() it sooner: it is idempotent)."""
        server = HttpProcess(
            name,
            [*fastfaktura_command(), "serve", "--host", HOST, "--port", str(port), *args],
            {**self.cli_env(database_url), **(env or {})},
            port,
            log_path,
        )
        self.defer(server.stop)
        started = server.start(timeout=90)
        wait_for_log(log_path, PDF_POOL_STARTED, 180, api_processes)
        return started

    def defer(self, callback: Callable[[], object]) -> None:
        """Run `callback` on exit (or error), before the database stops; last in, first out."""
        self._stack.callback(callback)

    def start_cluster(self, name: str) -> Cluster:
        """Another embedded PostgreSQL (own data directory, processes and connection limit),
        migrated; stopped on exit."""
        from fastfaktura.adapters.database import migrate, start_embedded

        home = self.workdir / name
        url = start_embedded(home)
        self.defer(lambda: _stop_postgres(home / "pg"))
        migrate(url)
        return Cluster(url, _postmaster_pid(home / "pg"))

    def log_tail(self, chars: int = 3000) -> str:
        return self.server.log_tail(chars) if self.server else ""

    def close(self) -> None:
        self._stack.close()

    # -- CPU accounting -----------------------------------------------------------------------

    def cpu_meter(
        self,
        name: str,
        server: HttpProcess | None = None,
        server_is: str = "the server",
        cluster: Cluster | None = None,
    ) -> CpuMeter:
        """CPU of the bench, `server` (default: the main `fastfaktura serve`) and PostgreSQL
        (default: the main cluster)."""
        target = server or self.server
        postgres = cluster.postgres_pid if cluster else self.postgres_pid
        return CpuMeter(name, target.pid if target else None, postgres, server_is)


@dataclass(frozen=True)
class Cluster:
    url: str
    postgres_pid: int | None


def _stop_postgres(pgdata: Path) -> None:
    from pgserver.postgres_server import PostgresServer

    # The handle start_embedded made (get_server would start a new server if it is gone).
    handle = PostgresServer._instances.get(pgdata.resolve())
    if handle is not None:
        handle.cleanup()  # the last handle: stops the server


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _tree_times(pid: int | None) -> dict[int, float]:
    """CPU seconds (user + system) of a process and its descendants, by pid."""
    if pid is None:
        return {}
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return {}
    times = {}
    for process in processes:
        try:
            t = process.cpu_times()
            times[process.pid] = t.user + t.system
        except psutil.Error:
            continue
    return times


def _used(before: dict[int, float], after: dict[int, float]) -> float:
    # Processes born during the window count from zero; those that died are lost (rare here).
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


class CpuMeter:
    """CPU seconds used by the bench process, the server and PostgreSQL over a window."""

    def __init__(
        self,
        name: str,
        server_pid: int | None,
        postgres_pid: int | None,
        server_is: str = "the server",
    ) -> None:
        self.name = name
        self.server_pid = server_pid
        self.postgres_pid = postgres_pid
        self.server_is = server_is
        self._start: tuple[float, float, dict[int, float], dict[int, float], float] | None = None

    def _sample(self) -> tuple[float, float, dict[int, float], dict[int, float], float]:
        total = psutil.cpu_times()
        busy = sum(total) - total.idle - getattr(total, "iowait", 0.0)
        return (
            time.perf_counter(),
            time.process_time(),
            _tree_times(self.server_pid),
            _tree_times(self.postgres_pid),
            busy,
        )

    def start(self) -> None:
        self._start = self._sample()

    def stop(self) -> CpuWindow:
        assert self._start is not None, "start() first"
        wall0, own0, server0, pg0, busy0 = self._start
        wall1, own1, server1, pg1, busy1 = self._sample()
        seconds = wall1 - wall0

        def pct(used: float) -> float:
            return 100.0 * used / seconds if seconds > 0 else 0.0

        return CpuWindow(
            name=self.name,
            seconds=seconds,
            bench=pct(own1 - own0),
            server=pct(_used(server0, server1)),
            postgres=pct(_used(pg0, pg1)),
            machine=pct(busy1 - busy0),
            cores=psutil.cpu_count() or 1,
            server_is=self.server_is,
        )


class SubprocessCpu:
    """CPU over a window whose work is done by subprocesses that start and end inside it (a
    CLI and the worker processes it spawns) and by PostgreSQL backends that come and go.

    Subprocesses: RUSAGE_CHILDREN of the bench process, which counts every child it reaped and
    every descendant those reaped, exactly. PostgreSQL: its process tree polled every 0.2 s from
    a thread, keeping each process's last reading (a backend's last < 0.2 s may be lost)."""

    def __init__(self, name: str, postgres_pid: int | None, server_is: str, processes: int):
        self.name = name
        self.postgres_pid = postgres_pid
        self.server_is = server_is
        self.processes = processes
        self._seen: dict[int, float] = {}
        self._before: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start: tuple[float, float, float, float] | None = None

    @staticmethod
    def _children() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    @staticmethod
    def _busy() -> float:
        total = psutil.cpu_times()
        return sum(total) - total.idle - getattr(total, "iowait", 0.0)

    def _poll(self) -> None:
        while not self._stop.wait(0.2):
            self._seen.update(_tree_times(self.postgres_pid))

    def start(self) -> None:
        self._before = _tree_times(self.postgres_pid)
        self._seen = dict(self._before)
        self._start = (time.perf_counter(), time.process_time(), self._children(), self._busy())
        self._thread = threading.Thread(target=self._poll, name="cpu-poll", daemon=True)
        self._thread.start()

    def stop(self) -> CpuWindow:
        assert self._start is not None, "start() first"
        assert self._thread is not None
        self._stop.set()
        self._thread.join(timeout=5)
        self._seen.update(_tree_times(self.postgres_pid))
        wall0, own0, children0, busy0 = self._start
        seconds = time.perf_counter() - wall0

        def pct(used: float) -> float:
            return 100.0 * used / seconds if seconds > 0 else 0.0

        return CpuWindow(
            name=self.name,
            seconds=seconds,
            bench=pct(time.process_time() - own0),
            server=pct(self._children() - children0),
            postgres=pct(_used(self._before, self._seen)),
            machine=pct(self._busy() - busy0),
            cores=psutil.cpu_count() or 1,
            server_is=self.server_is,
            server_processes=self.processes,
        )
