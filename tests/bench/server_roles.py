"""`python -m tests.bench.server_roles PROFILE.raw`: where a `fastfaktura serve` process spends
its Python time, by the part of the server doing it (issue 12's "profile that shows what limits
it").

Record a profile of the server under load with py-spy, sampling only the thread that holds the
GIL (what competes for the one core a process's Python can use), in py-spy's raw format:

    py-spy record --gil --nonblocking -r 200 -d 15 -f raw -p SERVER_PID -o PROFILE.raw

(while, for instance, `python -m tests.bench --only clients_post_load --duration 25` loads
it: the server's pid is in the bench's output). This prints each part's share of the samples:
the command threads (the write side: load, decide, append), the projection runners (their
apply, and their subscription's read of new events), the wake-up hub, the webhook worker, and
the event loop (HTTP, Litestar, authentication, the read-your-writes wait, asyncpg, and
uvloop's own C code, which py-spy shows as `Runner.run`). Then the functions with the most
samples of their own. Not part of `make bench`: a diagnostic, like `chain_instructions`.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

# A sample's part: the first of these whose marker is in its stack (thread roles first).
THREAD_ROLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("command thread (write side)", ("Services._announcing",)),
    ("projection runner: apply", ("LiveRunner._process_events_loop",)),
    ("projection runner: read new events", ("ListenNotifySubscription._loop_on_pull",)),
    ("wake-up hub", ("NotifyHub._run",)),
    ("webhook worker", ("WebhookWorker", "LockedWorker")),
)
EVENT_LOOP_PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("authentication", ("provide_tenant", "_authenticated", "tenant_and_read")),
    ("read-your-writes wait", ("PositionWatcher",)),
    ("asyncpg", ("asyncpg/",)),
    ("Litestar", ("litestar/",)),
    ("uvicorn", ("uvicorn/protocols",)),
)
UVLOOP_ITSELF = "Runner.run (asyncio/runners.py"


def part_of(stack: str) -> str:
    """The part of the server a sample's stack (root first, frames joined by ';') belongs to."""
    for name, markers in THREAD_ROLES:
        if any(marker in stack for marker in markers):
            return name
    if "Thread._bootstrap" in stack:
        return "other threads"
    if stack.rsplit(";", 1)[-1].startswith(UVLOOP_ITSELF):
        return "event loop: uvloop (C)"
    for name, markers in EVENT_LOOP_PARTS:
        if any(marker in stack for marker in markers):
            return f"event loop: {name}"
    return "event loop: other Python"


def shares(lines: Iterable[str]) -> tuple[Counter[str], Counter[str], int]:
    """Samples per part and per function (own samples), and the total, from py-spy's raw
    format (a stack, a space, a count, per line)."""
    parts: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        parts[part_of(stack)] += n
        own[stack.rsplit(";", 1)[-1]] += n
    return parts, own, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("profile", type=Path, help="py-spy's raw output (-f raw)")
    parser.add_argument("--top", type=int, default=15, help="functions listed by own samples")
    args = parser.parse_args()
    with args.profile.open() as profile:
        parts, own, total = shares(profile)
    if not total:
        raise SystemExit(f"{args.profile}: no samples")
    print(f"{total} samples")
    for name, n in parts.most_common():
        print(f"{100 * n / total:5.1f} %  {name}")
    print(f"\nown samples, top {args.top}:")
    for frame, n in own.most_common(args.top):
        print(f"{100 * n / total:5.1f} %  {frame[:120]}")


if __name__ == "__main__":
    main()
