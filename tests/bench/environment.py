"""What the bench runs against: a fresh embedded PostgreSQL, migrated, a business with its API key,
and a real `fastfaktura serve` subprocess on 127.0.0.1. Everything is stopped on exit or error.
"""

from __future__ import annotations

import atexit
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import psutil

from tests.bench.figures import CpuWindow

PORTS = range(8100, 8200)
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


@dataclass(frozen=True)
class Account:
    business_id: str
    api_key: str


class Environment:
    """Context manager: database, account and server up on enter, all stopped on exit."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self._stack = ExitStack()
        self.workdir = Path(tempfile.mkdtemp(prefix="ff-bench-"))
        self.database_url = ""
        self.port = 0
        self.account = Account("", "")
        self.server: subprocess.Popen[bytes] | None = None
        self.postgres_pid: int | None = None
        self.server_log = self.workdir / "server.log"

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
        started = time.perf_counter()
        self.database_url = start_embedded(self.workdir)
        self._stack.callback(self._stop_postgres)
        self.postgres_pid = _postmaster_pid(self.workdir / "pg")
        migrate(self.database_url)
        self.say(f"embedded PostgreSQL up and migrated in {time.perf_counter() - started:.1f} s")

        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "FASTFAKTURA_HOME": str(self.workdir / "home"),
        }
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
        log = self.server_log.open("wb")
        self._stack.callback(log.close)
        self.server = subprocess.Popen(
            [*fastfaktura_command(), "serve", "--host", HOST, "--port", str(self.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the terminal is handled by us, not it
        )
        self._stack.callback(self._stop_server)
        self._wait_healthy(timeout=90)
        self.say(
            f"fastfaktura serve (pid {self.server.pid}) healthy on {self.base_url} "
            f"{time.perf_counter() - started:.1f} s after start"
        )

    def _wait_healthy(self, timeout: float) -> None:
        assert self.server is not None
        deadline = time.monotonic() + timeout
        status: object = None
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(
                    f"the server exited with {self.server.returncode}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.base_url}/health", timeout=5) as response:
                    status = response.status
                    if status == 200:
                        return
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError as exc:
                status = exc
            time.sleep(0.1)
        raise RuntimeError(f"GET /health not 200 after {timeout} s ({status}):\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.server_log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def _stop_server(self) -> None:
        server = self.server
        if server is None or server.poll() is not None:
            return
        server.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown (runs the lifespan exit)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)

    def _stop_postgres(self) -> None:
        from pgserver.postgres_server import PostgresServer

        # The handle start_embedded made (get_server would start a new server if it is gone).
        handle = PostgresServer._instances.get((self.workdir / "pg").resolve())
        if handle is not None:
            handle.cleanup()  # the last handle: stops the server

    def close(self) -> None:
        self._stack.close()

    # -- CPU accounting -----------------------------------------------------------------------

    def cpu_meter(self, name: str) -> CpuMeter:
        return CpuMeter(name, self.server.pid if self.server else None, self.postgres_pid)


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

    def __init__(self, name: str, server_pid: int | None, postgres_pid: int | None) -> None:
        self.name = name
        self.server_pid = server_pid
        self.postgres_pid = postgres_pid
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
        )
