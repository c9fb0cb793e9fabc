"""`fastfaktura serve` on every core (docs/operations.md, "Processes and cores").

One supervisor process reserves the port and starts N API processes, plus one process running
the projections and the policies. Each API process listens on a socket of its own, bound to the
same port with SO_REUSEPORT: Linux then gives each new connection to one of those sockets by a
hash of its addresses, so every process gets its share. (With one socket shared by all, the
process that happens to accept first can take every connection while the others idle.)
Each child is the `fastfaktura` command itself, so each names itself in pg_stat_activity
(`fastfaktura api PID`, `fastfaktura projections PID`), and each API process in the
`Server-Process` header of its answers.

Crash policy: a child that exits while the service runs is started again, after 1, 2, 4, 8 s;
a child that exits RESTART_LIMIT times within RESTART_WINDOW seconds is not flapping for a
passing reason (a bad setting, the database gone): then every child is stopped and `serve`
exits 1, so that the operator's process manager sees it.

Stopping: SIGINT (Ctrl-C) or SIGTERM to the supervisor sends SIGTERM to every child (they run
in sessions of their own, so a terminal's Ctrl-C reaches the supervisor only, once), waits
STOP_GRACE seconds for their graceful shutdown, then kills what is left (each child's
process group: its PDF workers too). A child also gets
SIGTERM should the supervisor die (Linux: PR_SET_PDEATHSIG), so none outlives it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field

import structlog

log = structlog.get_logger(__name__)

RESTART_WINDOW = 60.0
RESTART_LIMIT = 5
MAX_RESTART_DELAY = 8.0
STOP_GRACE = 20.0
LISTEN_BACKLOG = 2048
# Linux prctl(2) option: the signal a process gets when its parent dies.
_PR_SET_PDEATHSIG = 1


def cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def pdf_workers_per_process(default: int, processes: int) -> int:
    """PDF render workers for each of `processes` that each run a pool: the one-process
    default shared out, at least 2 (a business's cap is workers - 1)."""
    return max(2, math.ceil(default / processes))


def balances_connections() -> bool:
    """Whether this kernel spreads connections over SO_REUSEPORT sockets (Linux does; other
    systems have the option with other meanings)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _port_socket(host: str, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return sock


def reserve_port(host: str, port: int) -> socket.socket:
    """Fail at once when the port is taken, and hold it for the API processes: a bound socket
    that never listens (it gets no connection) keeps the port ours while they (re)start."""
    # A plain bind first: with SO_REUSEPORT alone, another `serve` of the same user listening
    # on the port would share it silently instead of refusing.
    with _port_socket(host, reuse_port=False) as probe:
        probe.bind((host, port))
    held = _port_socket(host, reuse_port=True)
    try:
        held.bind((host, port))
    except OSError:
        held.close()
        raise
    return held


def api_socket(host: str, port: int) -> socket.socket:
    """One API process's own listening socket on the supervisor's port."""
    sock = _port_socket(host, reuse_port=True)
    sock.bind((host, port))
    sock.listen(LISTEN_BACKLOG)
    return sock


def fastfaktura_argv(*args: str) -> list[str]:
    """This very `fastfaktura` command, with other arguments."""
    return [sys.executable, "-m", "fastfaktura.cli", *args]


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    exits: deque[float] = field(default_factory=deque)
    start_at: float = 0.0


def _die_with_parent() -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to SIGTERM the child when the supervisor dies."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    prctl = libc.prctl

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    return hook


class Supervisor:
    """Starts the children, restarts those that exit, stops them all on SIGINT/SIGTERM."""

    def __init__(self, children: Sequence[Child], env: Mapping[str, str]) -> None:
        self.children = list(children)
        self.env = dict(env)
        self.stopping = threading.Event()
        self._pre_exec = _die_with_parent()

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(
            child.argv,
            env=self.env,
            start_new_session=True,
            preexec_fn=self._pre_exec,
        )
        log.info("process started", process=child.name, pid=child.process.pid)

    def _exited(self, child: Child, code: int, now: float) -> bool:
        """Note a child's exit; False when it exits too often to be started again."""
        assert child.process is not None
        # What it left of its process group (the PDF pool's processes after a crash).
        with suppress(ProcessLookupError):
            os.killpg(child.process.pid, signal.SIGKILL)
        child.process = None
        child.exits.append(now)
        while child.exits and child.exits[0] < now - RESTART_WINDOW:
            child.exits.popleft()
        if len(child.exits) >= RESTART_LIMIT:
            log.error(
                "process keeps exiting: stopping the service",
                process=child.name,
                exit_code=code,
                exits=len(child.exits),
                window_seconds=RESTART_WINDOW,
            )
            return False
        delay = min(2.0 ** (len(child.exits) - 1), MAX_RESTART_DELAY)
        child.start_at = now + delay
        log.warning("process exited: restarting it", process=child.name, exit_code=code, in_s=delay)
        return True

    def run(self) -> int:
        """Supervise until SIGINT or SIGTERM (exit 0) or a child that keeps exiting (exit 1)."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: self.stopping.set())
        code = 0
        try:
            for child in self.children:
                self._start(child)
            while not self.stopping.wait(0.2):
                now = time.monotonic()
                for child in self.children:
                    if child.process is not None:
                        exit_code = child.process.poll()
                        if exit_code is not None and not self._exited(child, exit_code, now):
                            code = 1
                            self.stopping.set()
                            break
                    if child.process is None and now >= child.start_at:
                        self._start(child)
        finally:
            self.stop_all()
        return code

    def stop_all(self) -> None:
        running = [c.process for c in self.children if c.process is not None]
        for process in running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for process in running:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                log.warning("process did not stop in time: killed", pid=process.pid)
                # Its whole process group: the PDF pool's processes too.
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.info("every process stopped")
