"""The supervisor of `fastfaktura serve` (cli/supervisor.py): its crash policy, without a
database: children that keep exiting stop the service (exit 1); SIGTERM stops a healthy one
(exit 0); the PDF workers are shared out between the processes."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest

from fastfaktura.cli import supervisor
from fastfaktura.cli.supervisor import Child, Supervisor, pdf_workers_per_process
from fastfaktura.config import Settings


def test_a_child_that_keeps_exiting_stops_every_child_and_the_supervisor_exits_1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(supervisor, "MAX_RESTART_DELAY", 0.0)  # no backoff: a quick test
    crashing = Child("crashing", [sys.executable, "-c", "raise SystemExit(3)"])
    healthy = Child("healthy", [sys.executable, "-c", "import time; time.sleep(60)"])
    started = time.monotonic()
    assert Supervisor([crashing, healthy], os.environ).run() == 1
    assert time.monotonic() - started < 30
    assert len(crashing.exits) == supervisor.RESTART_LIMIT
    assert healthy.process is not None
    assert healthy.process.poll() is not None  # stopped with the rest


def test_sigterm_stops_the_children_and_the_supervisor_exits_0() -> None:
    child = Child("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"])
    watched = Supervisor([child], os.environ)
    threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGTERM)).start()
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        assert watched.run() == 0
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    assert child.process is not None
    assert child.process.returncode == -signal.SIGTERM
    assert not child.exits  # stopped, not crashed


def test_pdf_workers_are_shared_out_and_workers_come_from_the_environment() -> None:
    assert [pdf_workers_per_process(3, n) for n in (1, 2, 3, 5)] == [3, 2, 2, 2]
    assert pdf_workers_per_process(5, 2) == 3
    assert Settings.from_env({}).workers == 0
    assert Settings.from_env({"FASTFAKTURA_WORKERS": "3"}).workers == 3
    with pytest.raises(ValueError, match="FASTFAKTURA_WORKERS"):
        Settings.from_env({"FASTFAKTURA_WORKERS": "-1"})
