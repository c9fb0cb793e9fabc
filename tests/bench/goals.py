"""The goals the issues set for `make bench` (issue 12's table, issue 18's chain rows), and the
summary that ends a run: every goal, met or NOT met, the required rows first.

A required row names the figure (its key) that answers it, the goal as the issue states it, and
the scenario that measures it. The goal the verdict uses is the figure's own (`Figure.goal`, set
by its scenario, e.g. scaled to a smaller store); a required row whose figure is missing (its
scenario failed or was not selected) is listed as not measured, and one whose figure has no goal
is flagged, so a row cannot silently drop out of the table.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape

from tests.bench.figures import Figure, Report, fmt

SCALING_PROCESSES = (1, 2, 4)  # tests/bench/scaling.py PROCESSES (not imported: it loads much)


@dataclass(frozen=True)
class Required:
    key: str  # the figure that answers the row
    row: str  # the row, as the issue names it
    stated: str  # the goal, as the issue states it
    source: str
    scenario: str


def required(connections: int) -> list[Required]:
    """The required rows, in the issues' order, for a run of `connections` (xN) connections."""
    n = connections
    return [
        Required(
            "clients_post_rate",
            f"POST /clients x{n} vs raw append x{n}",
            "ratio >= 0.5",
            "issue 12",
            "clients_post_load",
        ),
        Required(
            "invoices_post_rate",
            f"POST /invoices (3 lines) x{n} vs raw append x{n}",
            "ratio >= 0.4",
            "issue 12",
            "invoices_post_load",
        ),
        Required(
            "visible_p50", "write-to-visible p50", "<= 5 ms", "issue 12", "clients_write_visible"
        ),
        Required(
            "visible_p99", "write-to-visible p99", "<= 15 ms", "issue 12", "clients_write_visible"
        ),
        Required(
            "invoices_get_rate",
            f"GET /invoices/{{id}} x{n} vs bare Litestar+asyncpg",
            "ratio >= 0.7",
            "issue 12",
            "invoices_get_load",
        ),
        Required(
            "rebuild_rate",
            "projections rebuild --all vs executemany",
            "ratio >= 0.8",
            "issue 12",
            "store_rebuild",
        ),
        Required(
            "rebuild_seconds",
            "projections rebuild --all, 1M events",
            "<= 30 s",
            "issue 12",
            "store_rebuild",
        ),
        Required("audit_seconds", "audit replay, 1M events", "<= 30 s", "issue 12", "store_audit"),
        Required(
            "verify_seconds", "audit verify, 1M events", "<= 20 s", "issue 18", "store_verify"
        ),
        *(
            Required(
                f"chain_on_rate_x{c}",
                f"append x{c}, hash chain on vs off",
                "ratio >= 0.9",
                "issue 18",
                "chain_append",
            )
            for c in dict.fromkeys((n, 1))
        ),
        *(
            Required(
                f"scale_rss_{p}",
                f"RSS per API process under load, {p} API process{'es' * (p > 1)}",
                "<= 250 MB",
                "issue 12",
                "serve_scaling",
            )
            for p in SCALING_PROCESSES
        ),
    ]


VERDICT_WORDS = {True: "met", False: "NOT met", None: "no value"}


@dataclass(frozen=True)
class Line:
    """One line of the summary."""

    row: str
    source: str
    value: str
    goal: str
    verdict: str  # met, NOT met, no value, not measured, no goal set


def summary(report: Report, connections: int) -> list[Line]:
    """Every required row (measured or not), then every other figure that has a goal."""
    known = report.by_key()
    lines = []
    rows = required(connections)
    for row in rows:
        figure = known.get(row.key)
        if figure is None:
            failed = row.scenario in report.failed
            why = "failed" if failed else "not run"
            lines.append(
                Line(
                    row.row,
                    row.source,
                    f"scenario {row.scenario} {why}",
                    row.stated,
                    "not measured",
                )
            )
        elif figure.goal is None:
            lines.append(
                Line(
                    row.row,
                    row.source,
                    _value(report, figure),
                    f"{row.stated} (stated; the figure has none: its scenario must set it)",
                    "no goal set",
                )
            )
        else:
            lines.append(_line(report, figure, row.row, row.source))
    listed = {row.key for row in rows}
    for figure in report.figures:
        if figure.goal is not None and figure.key not in listed:
            lines.append(_line(report, figure, figure.label.strip(), "bench"))
    return lines


def _value(report: Report, figure: Figure) -> str:
    """The figure, with its ratio when that is what its goal is about."""
    ratio = report.ratio(figure)
    value = fmt(figure.value, figure.unit)
    on_ratio = figure.goal is None or figure.goal.on == "ratio"
    return f"{value} (ratio {ratio:.2f})" if ratio is not None and on_ratio else value


def _line(report: Report, figure: Figure, row: str, source: str) -> Line:
    assert figure.goal is not None
    verdict = VERDICT_WORDS[report.verdict(figure)]
    return Line(row, source, _value(report, figure), figure.goal.text(figure.unit), verdict)


def print_summary(report: Report, connections: int, console: Console) -> None:
    lines = summary(report, connections)
    console.print("[bold]Goals[/] (the issues' rows first; each verdict on this run's figures):")
    colour = {"met": "green", "NOT met": "red"}
    for line in lines:
        verdict = line.verdict
        shown = f"[{colour[verdict]}]{verdict}[/]" if verdict in colour else f"[yellow]{verdict}[/]"
        said = escape(f"  {line.row} [{line.source}]: {line.value}; goal {line.goal}")
        console.print(f"{said} -> {shown}", highlight=False)
    if any(figure.goal and figure.goal.basis for figure in report.figures):
        console.print(
            "  Time goals stated for 1M events are scaled to this run's smaller store: its fixed"
            " costs (a process's start) weigh more on a small store, so such verdicts are"
            " strict; the verdict that counts is at the default --events 1000000.",
            highlight=False,
        )
    words = dict.fromkeys(line.verdict for line in lines)
    counts = {word: sum(line.verdict == word for line in lines) for word in words}
    console.print(
        "Goals: " + ", ".join(f"{count} {word}" for word, count in counts.items()), highlight=False
    )
