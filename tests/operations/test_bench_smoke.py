"""A tiny real run of the bench's generated store (tests/bench/store.py), which `make test` can
afford: `python -m tests.bench --only store_rebuild store_audit store_verify --events 200`, as
`make bench` runs it, on 200 invoices instead of a million. The store was once broken for a
whole session with nothing in `make test` noticing; the listing smoke test
(tests/unit/test_bench_smoke.py) only imports the scenarios.

The run starts one embedded PostgreSQL of its own (the store's: no selected scenario needs the
bench's main server, so neither it nor its database starts) and the real CLI on it:
`projections rebuild --all`, `audit replay`, `audit verify`. Its figures must all be in the
JSON results, and no scenario may fail. Timings are not judged here: that is `make bench`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
EVENTS = 200
SCENARIOS = ("store_rebuild", "store_audit", "store_verify")


def bench(tmp_path: Path, *arguments: str) -> dict[str, Any]:
    """`python -m tests.bench ARGUMENTS` run to its end without a failed scenario: its results."""
    results = tmp_path / "results.json"
    ran = subprocess.run(
        [sys.executable, "-m", "tests.bench", *arguments, "--output", str(results)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-2000:]
    report: dict[str, Any] = json.loads(results.read_text())
    assert report["failed"] == []
    return report


def test_a_tiny_bench_of_the_generated_store_runs_every_store_scenario(tmp_path: Path) -> None:
    report = bench(tmp_path, "--only", *SCENARIOS, "--events", str(EVENTS))
    assert report["meta"]["scenarios"] == list(SCENARIOS)
    figures = {figure["key"]: figure for figure in report["figures"]}
    expected = {
        "rebuild_rate",
        "rebuild_seconds",
        "insert_ceiling_rate",
        "audit_seconds",
        "read_all_seconds",
        "verify_seconds",
        "verify_read_seconds",
    }
    assert expected <= set(figures), sorted(figures)
    assert all(figures[key]["value"] > 0 for key in expected), figures
    # The generated store: the stamped invoices, plus the registrations of its businesses.
    stored = figures["audit_seconds"]["detail"]["events"]
    assert stored > EVENTS
    assert figures["rebuild_rate"]["detail"]["reported"]["invoices"] == EVENTS
    assert figures["audit_seconds"]["detail"] == {"returncode": 0, "events": stored}
    assert figures["read_all_seconds"]["detail"]["rows"] == stored
    assert figures["verify_seconds"]["detail"]["events"] == stored


def test_a_tiny_run_of_the_chain_append_bench_measures_both_settings(tmp_path: Path) -> None:
    """`chain_append` (issue 18's on/off ratio) switches the chain's trigger between windows on
    the app's append: a run of a few tenths of a second per window keeps it from rotting."""
    tiny = ("--warmup", "0.1", "--duration", "0.3", "--connections", "4")
    report = bench(tmp_path, "--only", "chain_append", *tiny)
    assert not [note for note in report.get("notes", []) if "errors" in note], report["notes"]
    figures = {figure["key"]: figure for figure in report["figures"]}
    for connections in (4, 1):
        for setting in ("on", "off"):
            assert figures[f"chain_{setting}_rate_x{connections}"]["value"] > 0, figures
