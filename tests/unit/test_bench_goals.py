"""The end of `make bench` (issue 12): every goal the issues set, met or NOT met, from canned
figures: a row whose scenario failed still shows (not measured), a time goal stated for 1M
events is scaled to a smaller store, and the scaling table shows each number of API processes
against one process and against the main rows' baselines."""

from __future__ import annotations

from rich.console import Console

from tests.bench.figures import Figure, Goal, Report, per_million_events
from tests.bench.goals import print_summary, required, summary
from tests.bench.scaling import scaling_figures


def canned() -> Report:
    events = 100_000
    figures = [
        Figure("append_ceiling_rate", "raw append x16", 1000.0, "tx/s"),
        Figure(
            "clients_post_rate",
            "POST /api/v1/clients x16",
            600.0,
            "req/s",
            baseline="append_ceiling_rate",
            goal=Goal("ratio", ">=", 0.5),
        ),
        Figure(
            "invoices_post_rate",
            "POST /api/v1/invoices x16",
            300.0,
            "req/s",
            baseline="append_ceiling_rate",
            goal=Goal("ratio", ">=", 0.4),
        ),
        Figure("visible_p50", "write-to-visible p50", 4.0, "ms", goal=Goal("value", "<=", 5.0)),
        Figure("visible_p99", "write-to-visible p99", 16.0, "ms"),  # its goal forgotten
        Figure("bare_get_rate", "bare GET", 5000.0, "req/s"),
        Figure(
            "invoices_get_rate",
            "GET /api/v1/invoices/{id} x16",
            4000.0,
            "req/s",
            baseline="bare_get_rate",
            goal=Goal("ratio", ">=", 0.7),
        ),
        Figure(
            "rebuild_seconds",
            "rebuild wall time",
            2.5,
            "s",
            goal=per_million_events(30.0, events),
        ),
        Figure("audit_seconds", "audit replay", 3.5, "s", goal=per_million_events(30.0, events)),
        Figure("pdf_get_cached_p50", "GET .../pdf p50", 2.0, "ms", goal=Goal("value", "<=", 5.0)),
        *scaling_figures(
            {
                1: {"post": 200.0, "get": 1000.0, "rss": 180.0, "processes": 1.0},
                2: {"post": 300.0, "get": 1500.0, "rss": 190.0, "processes": 3.0},
                4: {"post": 320.0, "get": 1600.0, "rss": 260.0, "processes": 5.0},
            },
            {"get": 1800.0},
            16,
        ),
    ]
    # rebuild_rate absent: its scenario failed; verify and chain rows: not run.
    return Report(figures=figures, failed=["store_rebuild"])


def test_every_required_row_is_listed_with_its_verdict_in_the_issues_order() -> None:
    report = canned()
    lines = summary(report, 16)
    rows = required(16)
    assert [line.row for line in lines[: len(rows)]] == [row.row for row in rows]
    verdicts = {line.row: line.verdict for line in lines}
    assert verdicts["POST /clients x16 vs raw append x16"] == "met"  # 0.6
    assert verdicts["POST /invoices (3 lines) x16 vs raw append x16"] == "NOT met"  # 0.3
    assert verdicts["write-to-visible p50"] == "met"
    assert verdicts["write-to-visible p99"] == "no goal set"
    assert verdicts["GET /invoices/{id} x16 vs bare Litestar+asyncpg"] == "met"  # 0.8
    assert verdicts["projections rebuild --all vs executemany"] == "not measured"
    # 30 s per 1M events, at 100,000 events: 3 s.
    assert verdicts["projections rebuild --all, 1M events"] == "met"  # 2.5 s
    assert verdicts["audit replay, 1M events"] == "NOT met"  # 3.5 s
    assert verdicts["audit verify, 1M events"] == "not measured"
    assert verdicts["append x16, hash chain on vs off"] == "not measured"
    assert verdicts["append x1, hash chain on vs off"] == "not measured"
    rss = [verdicts[f"RSS per API process under load, {n}"] for n in ("1 API process",)]
    assert rss == ["met"]
    assert verdicts["RSS per API process under load, 4 API processes"] == "NOT met"
    # Goals the issues do not list follow, with their own verdicts.
    assert lines[len(rows)].row == "GET .../pdf p50"
    assert lines[len(rows)].verdict == "met"
    by_row = {line.row: line for line in lines}
    failed = by_row["projections rebuild --all vs executemany"]
    assert failed.value == "scenario store_rebuild failed"
    assert failed.goal == "ratio >= 0.8"
    assert by_row["audit verify, 1M events"].value == "scenario store_verify not run"
    assert by_row["audit replay, 1M events"].goal == (
        "<= 3 s (30 s per 1M events, scaled to 100,000)"
    )


def test_the_summary_and_the_scaling_table_print() -> None:
    report = canned()
    console = Console(record=True, width=240)
    report.print(console)
    print_summary(report, 16, console)
    text = console.export_text()
    assert "Scaling: API processes" in text
    # 4 processes: POST 320 req/s is 1.60 x one process and 0.32 x raw append x16; GET 1,600
    # req/s is 1.60 x one process and 0.32 x the bare GET.
    rows = [line.replace("│", " ").split() for line in text.splitlines() if "│" in line]
    four = next(row for row in rows if row[0] == "4")
    assert four[:9] == ["4", "320", "req/s", "1.60", "0.32", "1,600", "req/s", "1.60", "0.32"]
    assert "audit replay, 1M events [issue 12]: 3.5 s" in text
    assert "-> NOT met" in text
    assert (
        "write-to-visible p99 [issue 12]: 16.00 ms; goal <= 15 ms (stated; the figure has" in text
    )
    assert "Goals: 7 met, 3 NOT met, 1 no goal set, 4 not measured" in text


def test_a_goal_for_a_million_events_reads_as_stated_at_a_million() -> None:
    assert per_million_events(30.0, 1_000_000) == Goal("value", "<=", 30.0)
    assert per_million_events(30.0, 1_000_000).text("s") == "<= 30 s"
