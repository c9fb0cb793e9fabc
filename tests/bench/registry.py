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


@dataclass
class Bench:
    """What a scenario gets: the running environment, the settings, and where to put CPU/notes."""

    env: Environment
    settings: Settings
    cpu: list[CpuWindow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    clients: dict[str, str] = field(default_factory=dict)  # what generated each load, by window

    def client(self, what: str, description: str) -> None:
        self.clients[what] = description


Run = Callable[[Bench], Awaitable[list[Figure]]]


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    run: Run


SCENARIOS: list[Scenario] = []


def scenario(name: str, title: str) -> Callable[[Run], Run]:
    """Register a scenario; they run in registration order."""

    def register(run: Run) -> Run:
        if any(s.name == name for s in SCENARIOS):
            raise ValueError(f"scenario {name!r} registered twice")
        SCENARIOS.append(Scenario(name, title, run))
        return run

    return register
