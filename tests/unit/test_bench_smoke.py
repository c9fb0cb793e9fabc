"""A smoke run of `make bench` that `make test` can afford (issue 12): every scenario module
imports and registers (the command lists them), and the scaling table prints its rows with the
ratios to one API process and the RSS verdict. The measuring itself is `make bench`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rich.console import Console

from tests.bench.figures import Report
from tests.bench.scaling import scaling_figures

REPO = Path(__file__).resolve().parents[2]


def test_the_bench_lists_every_scenario_the_scaling_one_too() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "tests.bench", "--list"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    names = [line.split(":")[0] for line in listed.stdout.splitlines()]
    assert {"clients_post_load", "invoices_get_load", "serve_scaling"} <= set(names)


def test_the_scaling_table_prints_ratios_to_one_process_and_the_rss_verdict() -> None:
    measured = {
        1: {"post": 200.0, "get": 1000.0, "rss": 180.0, "processes": 1.0},
        2: {"post": 300.0, "get": 1500.0, "rss": 190.0, "processes": 3.0},
        4: {"post": 320.0, "get": 1600.0, "rss": 260.0, "processes": 5.0},
    }
    report = Report(figures=scaling_figures(measured, {"get": 1800.0}, 16))
    known = report.by_key()
    assert report.ratio(known["scale_get_2"]) == 1.5
    assert report.ratio(known["scale_post_4"]) == 1.6
    assert report.ratio(known["scale_get_4_key_cache"]) == 1.125
    assert [report.verdict(known[f"scale_rss_{n}"]) for n in (1, 2, 4)] == [True, True, False]
    console = Console(record=True, width=200)
    report.print(console)
    text = console.export_text()
    assert "GET /api/v1/invoices/{id} x16, 4 API processes" in text
    assert "goal NOT met" in text


def test_the_server_profile_tool_counts_each_part_of_the_server() -> None:
    """`python -m tests.bench.server_roles`: py-spy's raw lines (stack, count) summed per part
    of the server; a thread's role wins over the frames inside it."""
    from tests.bench.server_roles import shares

    loop = "<module> (fastfaktura:6);Runner.run (asyncio/runners.py:118)"
    lines = [
        f"{loop} 40\n",
        "Thread._bootstrap (threading.py:1002);Services._announcing.<locals>.run (x.py:1);"
        "Connection.wait (psycopg/connection.py:495) 30\n",
        "Thread._bootstrap (threading.py:1002);LiveRunner._process_events_loop (live.py:1);"
        "Cursor.execute (psycopg/cursor.py:113) 20\n",
        "provide_tenant (fastfaktura/api/auth.py:53);Connection._do_execute "
        "(asyncpg/connection.py:2069) 7\n",
        "Thread._bootstrap (threading.py:1002);Condition.wait (threading.py:327) 3\n",
        "not a sample line\n",
    ]
    parts, own, total = shares(lines)
    assert total == 100
    assert parts == {
        "event loop: uvloop (C)": 40,
        "command thread (write side)": 30,
        "projection runner: apply": 20,
        "event loop: authentication": 7,
        "other threads": 3,
    }
    assert own["Runner.run (asyncio/runners.py:118)"] == 40
