"""The scenario registry: each scenario is an async function of a `Bench`, returning figures.

A figure may name another figure of the same run as its baseline (its key), so scenarios can be
added in any order; ratios are resolved when the report is printed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tests.bench.environment import Environment
from tests.bench.figures import CpuWindow, Figure


@dataclass(frozen=True)
class Settings:
    connections: int = 16
    warmup: float = 2.0  # seconds of load before a throughput window opens
    duration: float = 10.0  # seconds of each throughput window
    samples: int = 300  # sequential write-to-visible round trips
    sample_warmup: int = 30  # round trips before those, not counted
    events: int = 1_000_000  # invoice events in the generated store (rebuild, audit, list)
    list_samples: int = 200  # sequential GET /invoices?status= requests


@dataclass
class Bench:
    """What a scenario gets: the running environment, the settings, and where to put CPU/notes."""

    env: Environment
    settings: Settings
    cpu: list[CpuWindow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    clients: dict[str, str] = field(default_factory=dict)  # what generated each load, by window
    # Expensive set-ups shared by several scenarios (e.g. the generated store), by name.
    shared: dict[str, object] = field(default_factory=dict)

    def client(self, what: str, description: str) -> None:
        self.clients[what] = description

    def say(self, text: str) -> None:
        self.env.say(text)


Run = Callable[[Bench], Awaitable[list[Figure]]]
Bound = Callable[[Settings], float]  # a scenario's time limit in seconds, from the settings

DEFAULT_TIMEOUT = 120.0  # seconds: no scenario may hang the run


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    run: Run
    timeout: Bound
    # False: the scenario works on a cluster and processes of its own (the generated store),
    # so a run of only such scenarios starts no main `fastfaktura serve` (nor its database).
    needs_server: bool = True


SCENARIOS: list[Scenario] = []


def scenario(
    name: str, title: str, timeout: Bound | None = None, *, needs_server: bool = True
) -> Callable[[Run], Run]:
    """Register a scenario; they run in registration order. `timeout`: its time limit as a
    function of the settings (default DEFAULT_TIMEOUT), for scenarios whose work scales.
    `needs_server`: whether it uses the main `fastfaktura serve` and its account."""

    def register(run: Run) -> Run:
        if any(s.name == name for s in SCENARIOS):
            raise ValueError(f"scenario {name!r} registered twice")
        bound = timeout or (lambda _: DEFAULT_TIMEOUT)
        SCENARIOS.append(Scenario(name, title, run, bound, needs_server))
        return run

    return register
