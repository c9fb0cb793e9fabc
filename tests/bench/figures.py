"""Figures, their same-run baselines and goals, and the report (rich tables and JSON)."""

from __future__ import annotations

import importlib.util
import json
import math
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.table import Table


@dataclass(frozen=True)
class Goal:
    """A target on the figure's value or on its ratio to its baseline."""

    on: Literal["value", "ratio"]
    op: Literal[">=", "<="]
    target: float
    basis: str = ""  # how the target was derived, when it is not the goal as stated

    def met(self, value: float, ratio: float | None) -> bool | None:
        subject = value if self.on == "value" else ratio
        if subject is None or math.isnan(subject):
            return None
        return subject >= self.target if self.op == ">=" else subject <= self.target

    def text(self, unit: str) -> str:
        if self.on == "ratio":
            return f"ratio {self.op} {self.target:g}"
        said = f"{self.op} {self.target:.3g} {unit}"
        return f"{said} ({self.basis})" if self.basis else said


def per_million_events(seconds: float, events: int) -> Goal:
    """A time goal stated for 1M events (issue 12: rebuild and audit replay <= 30 s), scaled
    linearly to a store of `events` (a quick run's store is smaller)."""
    target = seconds * events / 1e6
    basis = "" if events == 1_000_000 else f"{seconds:g} s per 1M events, scaled to {events:,}"
    return Goal("value", "<=", target, basis)


@dataclass
class Figure:
    """One named measurement. `baseline` is the key of another figure of the same run."""

    key: str
    label: str
    value: float
    unit: str
    baseline: str | None = None
    goal: Goal | None = None
    reference: str | None = None  # the figure documented in ARCHITECTURE.md, for context
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class CpuWindow:
    """Where the CPU went during one measurement window, in % of one core."""

    name: str
    seconds: float
    bench: float
    server: float
    postgres: float
    machine: float  # every process on the machine, 100 % per core
    cores: int
    # What the "server" column measured: the `fastfaktura serve` process unless said otherwise
    # (e.g. a CLI subprocess and its worker processes, or the bare baseline app).
    server_is: str = "the server"
    server_processes: int = 1

    @property
    def others(self) -> float:
        return max(0.0, self.machine - self.bench - self.server - self.postgres)


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)
    cpu: list[CpuWindow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)  # names of the scenarios that failed

    def by_key(self) -> dict[str, Figure]:
        return {f.key: f for f in self.figures}

    def ratio(self, figure: Figure) -> float | None:
        if figure.baseline is None:
            return None
        base = self.by_key().get(figure.baseline)
        if base is None or base.value == 0:
            return None
        return figure.value / base.value

    def verdict(self, figure: Figure) -> bool | None:
        if figure.goal is None:
            return None
        return figure.goal.met(figure.value, self.ratio(figure))

    # -- output ------------------------------------------------------------------------------

    def print(self, console: Console) -> None:
        known = self.by_key()
        table = Table(
            title="FastFaktura bench (xN: N concurrent connections; ratio = value / baseline)",
            title_justify="left",
        )
        for column in ("figure", "value", "baseline (same run)", "ratio", "goal", "verdict"):
            table.add_column(
                column,
                justify="right" if column in ("value", "ratio") else "left",
                no_wrap=column in ("value", "ratio", "verdict"),
            )
        for figure in self.figures:
            base = known.get(figure.baseline) if figure.baseline else None
            ratio = self.ratio(figure)
            verdict = self.verdict(figure)
            table.add_row(
                figure.label,
                fmt(figure.value, figure.unit),
                f"{base.label}: {fmt(base.value, base.unit)}" if base else "",
                f"{ratio:.2f}" if ratio is not None else "",
                figure.goal.text(figure.unit) if figure.goal else "",
                {None: "", True: "[green]goal met[/]", False: "[red]goal NOT met[/]"}[verdict],
            )
        console.print(table)
        self.print_scaling(console)

        cpu = Table(
            title="CPU during each window (% of one core; the machine has "
            f"{self.cpu[0].cores if self.cpu else '?'} cores)",
            title_justify="left",
        )
        for column in ("window", "bench (load generator)", "server", "postgres", "others"):
            cpu.add_column(column, justify="left" if column == "window" else "right")
        for w in self.cpu:
            cpu.add_row(
                f"{w.name} ({w.seconds:.1f} s)",
                f"{w.bench:.0f} %",
                f"{w.server:.0f} %",
                f"{w.postgres:.0f} %",
                f"{w.others:.0f} %",
            )
        if self.cpu:
            console.print(cpu)

        references = [f for f in self.figures if f.reference]
        if references:
            console.print("Documented figures (ARCHITECTURE.md, another run: context only):")
            for figure in references:
                console.print(f"  - {figure.label}: {figure.reference}")
        for note in [*self.notes, *self.limits()]:
            console.print(f"[bold]Note:[/] {note}")

    def print_scaling(self, console: Console) -> None:
        """The scaling table (issue 12): per number of API processes, the rates against one
        process and against the main rows' baselines of the same run, and the peak RSS."""
        known = self.by_key()
        counts = sorted(
            int(key.rsplit("_", 1)[1])
            for key in known
            if key.startswith(f"{SCALING}rss_") and key.rsplit("_", 1)[1].isdigit()
        )
        if not counts:
            return
        table = Table(
            title="Scaling: API processes (`serve --no-projections --workers N`; same run)",
            title_justify="left",
        )
        for column in (
            "API processes",
            "POST /clients",
            "vs 1",
            "vs raw append",
            "GET /invoices/{id}",
            "vs 1",
            "vs bare GET",
            "peak RSS",
            "RSS goal",
        ):
            table.add_column(
                column,
                justify="left" if column == "RSS goal" else "right",
                no_wrap=column != "API processes",
            )

        def rate(key: str, baseline: str | None) -> tuple[str, str, str]:
            figure = known.get(key)
            if figure is None:
                return "", "", ""
            own = self.ratio(figure)
            base = known.get(baseline) if baseline else None
            against = figure.value / base.value if base and base.value else None
            return (
                fmt(figure.value, figure.unit),
                f"{own:.2f}" if own is not None else "1.00" if figure.baseline is None else "",
                f"{against:.2f}" if against is not None else "",
            )

        for n in counts:
            rss = known[f"{SCALING}rss_{n}"]
            verdict = self.verdict(rss)
            table.add_row(
                str(n),
                *rate(f"{SCALING}post_{n}", "append_ceiling_rate"),
                *rate(f"{SCALING}get_{n}", "bare_get_rate"),
                fmt(rss.value, rss.unit),
                (rss.goal.text(rss.unit) if rss.goal else "")
                + {None: "", True: " [green]met[/]", False: " [red]NOT met[/]"}[verdict],
            )
        for figure in self.figures:
            if figure.key.startswith(SCALING) and figure.key.endswith("_key_cache"):
                table.add_row(
                    figure.key.removeprefix(f"{SCALING}get_").split("_")[0] + ", key cache on",
                    "",
                    "",
                    "",
                    *rate(figure.key, "bare_get_rate"),
                    "",
                    "",
                )
        console.print(table)
        console.print(
            "  vs 1: against the same load on 1 API process (on the key cache row: the same"
            " number of processes without the cache). Peak RSS: of any one API process."
        )

    def limits(self) -> list[str]:
        """What the CPU figures say about the validity of the others."""
        found = []
        for w in self.cpu:
            said = []
            if w.bench >= 80:
                said.append(f"the load generator used {w.bench:.0f} % of a core (may limit it)")
            if w.server >= 90 * w.server_processes:
                n = w.server_processes
                one = "one process" if n == 1 else f"{n} processes"
                said.append(f"{w.server_is} used {w.server:.0f} % of a core (CPU-bound, {one})")
            if w.others >= 20:
                said.append(f"other processes used {w.others:.0f} % of a core (noisy)")
            if w.machine >= 90 * w.cores:
                said.append(f"all {w.cores} cores were busy")
            if said:
                found.append(f"{w.name}: " + "; ".join(said))
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "figures": [
                {
                    **asdict(f),
                    "goal": f.goal.text(f.unit) if f.goal else None,
                    "ratio": self.ratio(f),
                    "goal_met": self.verdict(f),
                }
                for f in self.figures
            ],
            "cpu": [{**asdict(w), "others": w.others} for w in self.cpu],
            "notes": [*self.notes, *self.limits()],
            "failed": self.failed,
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2, default=str) + "\n")


SCALING = "scale_"  # the scaling table's figures (tests/bench/scaling.py)


def fmt(value: float, unit: str) -> str:
    if math.isnan(value):
        return "n/a"
    if unit == "ms":
        return f"{value:.2f} ms"
    if value >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.1f} {unit}"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def machine_meta() -> dict[str, Any]:
    return {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def server_stack() -> str:
    """What the server's HTTP layer runs on: uvicorn picks httptools/uvloop only if installed."""
    parser = "httptools" if importlib.util.find_spec("httptools") else "h11 (pure Python)"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return f"uvicorn with the {parser} HTTP parser and the {loop} event loop"
