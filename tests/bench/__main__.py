"""`python -m tests.bench [--only NAME ...] [--duration S]`: run the bench, print, write JSON."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
import sys
import time
import traceback
from pathlib import Path
from types import FrameType

from tests.bench.environment import private_runtime_dir

private_runtime_dir()  # before anything imports pgserver

import importlib  # noqa: E402

from rich.console import Console  # noqa: E402

from tests.bench.environment import Environment  # noqa: E402
from tests.bench.figures import Report, machine_meta, server_stack  # noqa: E402
from tests.bench.goals import print_summary, summary  # noqa: E402
from tests.bench.registry import SCENARIOS, Bench, Settings  # noqa: E402

# Each module registers its scenarios at import; they run (and print) in this order.
MODULES = (
    "tests.bench.scenarios",
    "tests.bench.invoices",
    "tests.bench.store",
    "tests.bench.invoice_filters",
    "tests.bench.documents",
    "tests.bench.rate_limits",
    "tests.bench.webhooks",
    "tests.bench.chain",
    "tests.bench.scaling",  # issue 12: 1, 2 and 4 API processes
)
for module in MODULES:
    importlib.import_module(module)

RESULTS = Path(__file__).resolve().parents[2] / ".fastfaktura-bench" / "results.json"


def parse(argv: list[str]) -> argparse.Namespace:
    defaults = Settings()
    names = [s.name for s in SCENARIOS]
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--only", nargs="+", choices=names, help="run these scenarios only")
    parser.add_argument("--connections", type=int, default=defaults.connections)
    parser.add_argument("--warmup", type=float, default=defaults.warmup, help="seconds")
    parser.add_argument("--duration", type=float, default=defaults.duration, help="seconds")
    parser.add_argument("--samples", type=int, default=defaults.samples)
    parser.add_argument(
        "--events",
        type=int,
        default=defaults.events,
        help="invoice events in the generated store for rebuild, audit and the list"
        f" (default {defaults.events:,}; 100000 for a quick run)",
    )
    parser.add_argument("--list-samples", type=int, default=defaults.list_samples)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    return parser.parse_args(argv)


async def run_all(bench: Bench, selected: list[str] | None, console: Console) -> Report:
    """Every selected scenario in order. One that fails (or overruns its bound) is reported as
    a note and the run goes on, so the other figures are still printed."""
    report = Report(meta=machine_meta())
    phases: dict[str, float] = {}
    for s in SCENARIOS:
        if selected and s.name not in selected:
            continue
        bound = s.timeout(bench.settings)
        console.print(f"[bold]{s.name}[/]: {s.title} (bound {bound:.0f} s) ...")
        started = time.perf_counter()
        try:
            async with asyncio.timeout(bound):
                figures = await s.run(bench)
        except Exception as exc:  # reported as a note; the exit status says so
            elapsed = time.perf_counter() - started
            text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if isinstance(exc, TimeoutError):
                text = f"over its {bound:.0f} s bound"
            report.failed.append(s.name)
            bench.notes.append(f"scenario {s.name} FAILED after {elapsed:.0f} s: {text[-1500:]}")
            console.print(f"  [red]FAILED[/] after {elapsed:.1f} s: {text[-3000:]}")
            where = traceback.extract_tb(exc.__traceback__)[-3:]  # where it broke, briefly
            console.print("".join(traceback.format_list(where)), markup=False)
            phases[s.name] = round(elapsed, 1)
            continue
        report.figures += figures
        phases[s.name] = round(time.perf_counter() - started, 1)
        console.print(f"  done in {phases[s.name]:.1f} s")
    report.cpu = bench.cpu
    report.notes = bench.notes
    report.meta["load_generators"] = bench.clients
    report.meta["scenario_seconds"] = phases
    return report


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the cleanups


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    console = Console(width=max(Console().width, 140))
    if args.list:
        for s in SCENARIOS:
            console.print(f"{s.name}: {s.title}")
        return 0
    signal.signal(signal.SIGTERM, _terminate)
    settings = Settings(
        connections=args.connections,
        warmup=args.warmup,
        duration=args.duration,
        samples=args.samples,
        events=args.events,
        list_samples=args.list_samples,
    )
    started = time.perf_counter()
    chosen = [s for s in SCENARIOS if not args.only or s.name in args.only]
    serve = any(s.needs_server for s in chosen)
    with Environment(lambda text: console.print(f"  {text}"), serve=serve) as env:
        bench = Bench(env, settings)
        report = asyncio.run(run_all(bench, args.only, console))
    elapsed = time.perf_counter() - started
    report.meta |= {
        "settings": settings.__dict__,
        "server_stack": server_stack(),
        "scenarios": [s.name for s in chosen],
        "wall_seconds": round(elapsed, 1),
    }
    console.print()
    report.print(console)
    console.print(
        "Load generators (the server is a separate `fastfaktura serve` process, PostgreSQL is"
        " embedded (pgserver), all on this machine, over 127.0.0.1 and unix sockets):"
    )
    for what, description in report.meta["load_generators"].items():
        console.print(f"  - {what}: {description}")
    console.print(f"Server: {report.meta['server_stack']}, one process.")
    report.meta["results"] = str(args.output)
    report.meta["goals"] = [
        dataclasses.asdict(line) for line in summary(report, settings.connections)
    ]
    report.write(args.output)
    phases = ", ".join(f"{k} {v:.0f} s" for k, v in report.meta["scenario_seconds"].items())
    console.print(f"Time per scenario: {phases}")
    console.print(f"Results: {args.output}  (whole run: {elapsed:.0f} s)")
    console.print()
    print_summary(report, settings.connections, console)
    if report.failed:
        console.print(f"[red]Failed scenarios:[/] {', '.join(report.failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
