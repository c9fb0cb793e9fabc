"""`audit verify`: recompute every business's hash chain from its stored events.

One consistent moment: a read-only REPEATABLE READ transaction (writers keep going) exports its
snapshot (`pg_export_snapshot()`), and everything is read in it. The businesses are split into
shares, contiguous ranges of their ids balanced by event count; each share's chains are
recomputed in Python by chain_share.py (hashlib, not the database's functions) and compared
with the stored links and the operator's anchors: in this process when there is one share,
else by one worker process per share (`processes`, default: the machine's cores), each of
which imports the same snapshot (`SET TRANSACTION SNAPSHOT`). Then, still in that snapshot,
the issued documents are checked against the digests the issuing events record.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection, wait
from typing import Any
from uuid import UUID

import psycopg

from fastfaktura.adapters.chain_share import Break, ShareResult, check_share
from fastfaktura.adapters.database import EVENTS_TABLE
from fastfaktura.adapters.document_verify import DocumentCheck, check_documents
from fastfaktura.adapters.event_chain import Anchor
from fastfaktura.adapters.pdf.digests import ISSUING_TOPICS

__all__ = ["Break", "Verification", "default_processes", "split", "verify"]

LOWEST, HIGHEST = UUID(int=0), UUID(int=2**128 - 1)
Share = tuple[UUID, UUID]  # the businesses whose ids lie in [low, high]


@dataclass(frozen=True)
class Verification:
    taken_at: datetime
    events: int
    heads: list[Anchor]  # every business's verified head, as of the snapshot
    breaks: list[Break]
    documents: DocumentCheck = field(default_factory=DocumentCheck)  # as issued (issue 18)

    @property
    def ok(self) -> bool:
        return not self.breaks and not self.documents.breaks


def default_processes() -> int:
    """One worker per core: each keeps about one core busy with its PostgreSQL backend."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def split(counts: list[tuple[UUID, int]], shares: int) -> list[Share]:
    """At most `shares` contiguous ranges of business ids with about as many events each
    (`counts`: every business and its events, in id order): each range is cut once it holds
    its part of what the earlier cuts left. Together they cover every id, so an anchored
    business with no event left still falls in one."""
    ranges: list[Share] = []
    left = sum(n for _, n in counts)
    low, seen = LOWEST, 0
    for i, (business, events) in enumerate(counts):
        seen += events
        cuts_left = shares - len(ranges)
        if cuts_left > 1 and i < len(counts) - 1 and seen * cuts_left >= left:
            ranges.append((low, business))
            low, left, seen = UUID(int=business.int + 1), left - seen, 0
    ranges.append((low, HIGHEST))
    return ranges


def verify(
    url: str,
    *,
    business_id: UUID | None = None,
    anchors: dict[UUID, list[Anchor]] | None = None,
    progress: Callable[[int, int], None] | None = None,
    processes: int | None = None,
) -> Verification:
    """Check the chains (one business's, or all) with `processes` processes (default: one per
    core; this one counts). `progress(done, total)` now and then."""
    wanted = {business_id: anchors.get(business_id, [])} if anchors and business_id else anchors
    topics = set(ISSUING_TOPICS)
    with psycopg.connect(url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            row = conn.execute("SELECT now(), pg_export_snapshot()").fetchone()
            assert row is not None
            taken_at, snapshot = row
            count = max(1, processes or default_processes())
            if business_id:
                shares: list[Share] = [(business_id, business_id)]
                total = _count(conn, business_id)
            elif count > 1:
                counts = _counts(conn)
                shares, total = split(counts, count), sum(n for _, n in counts)
            else:
                shares, total = [(LOWEST, HIGHEST)], _estimate(conn)
            done = 0

            def advance(rows: int) -> None:
                nonlocal done
                done += rows
                if progress:
                    progress(done, max(total, done))

            # This process checks the first share while workers check the others.
            with _Workers(url, snapshot, shares[1:], wanted or {}, topics, advance) as workers:
                low, high = shares[0]

                def mine(rows: int) -> None:
                    advance(rows)
                    workers.collect(block=False)

                results = [check_share(conn, low, high, wanted or {}, topics, mine)]
                results += workers.results()
            breaks = [_name_missing(conn, b) for r in results for b in r.breaks]
            issuing = {k: v for r in results for k, v in r.issuing.items()}
            documents = check_documents(conn, issuing, business_id)
    heads = [
        Anchor(business, events, head, taken_at)
        for r in results
        for business, events, head in r.heads
    ]
    return Verification(
        taken_at,
        sum(r.events for r in results),
        sorted(heads, key=lambda a: str(a.business_id)),
        sorted(breaks, key=lambda b: str(b.business_id)),
        documents,
    )


class _Workers:
    """One `python -m fastfaktura.adapters.chain_share` per share, each in the snapshot the
    caller's transaction exported (which stays open until they are done). A worker is a fresh
    interpreter that imports only what checking needs; its messages come back pickled."""

    def __init__(
        self,
        url: str,
        snapshot: str,
        shares: list[Share],
        anchors: dict[UUID, list[Anchor]],
        topics: set[str],
        advance: Callable[[int], None],
    ) -> None:
        self.jobs = [
            {
                "url": url,
                "snapshot": snapshot,
                "low": low,
                "high": high,
                "anchors": {b: found for b, found in anchors.items() if low <= b <= high},
                "issuing_topics": topics,
            }
            for low, high in shares
        ]
        self.advance = advance
        self.running: list[tuple[subprocess.Popen[bytes], Connection, Connection]] = []
        self.done: dict[Connection, ShareResult] = {}

    def __enter__(self) -> _Workers:
        try:
            for job in self.jobs:
                worker = subprocess.Popen(
                    [sys.executable, "-m", "fastfaktura.adapters.chain_share"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                )
                assert worker.stdin is not None
                assert worker.stdout is not None
                sending = Connection(os.dup(worker.stdin.fileno()), readable=False)
                receiving = Connection(os.dup(worker.stdout.fileno()), writable=False)
                self.running.append((worker, sending, receiving))
                sending.send(job)
        except BaseException:
            self.__exit__()
            raise
        return self

    def collect(self, *, block: bool) -> None:
        """Take the workers' messages: what is there (or wait for at least one)."""
        waiting = [r for _, _, r in self.running if r not in self.done]
        for ready in wait(waiting, timeout=None if block else 0):
            assert isinstance(ready, Connection)
            try:
                kind, value = ready.recv()
            except EOFError:
                raise RuntimeError("a verify worker ended without its result") from None
            if kind == "progress":
                self.advance(value)
            elif kind == "done":
                self.done[ready] = value
            elif kind == "error":
                raise RuntimeError(f"a verify worker failed: {value}")

    def results(self) -> list[ShareResult]:
        while len(self.done) < len(self.running):
            self.collect(block=True)
        return [self.done[r] for _, _, r in self.running]

    def __exit__(self, *_: object) -> None:
        for worker, sending, receiving in self.running:
            sending.close()
            receiving.close()
            if worker.poll() is None and receiving not in self.done:
                worker.kill()  # verify itself failed or was interrupted
            worker.wait()
            for pipe in (worker.stdin, worker.stdout):
                if pipe is not None:
                    pipe.close()


def _counts(conn: psycopg.Connection[Any]) -> list[tuple[UUID, int]]:
    """Every business and its events, in id order (the chain's index, no table scan)."""
    rows = conn.execute(
        f"SELECT chain_business, count(*) FROM {EVENTS_TABLE} GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return [(business, int(n)) for business, n in rows]


def _count(conn: psycopg.Connection[Any], business_id: UUID) -> int:
    row = conn.execute(
        f"SELECT count(*) FROM {EVENTS_TABLE} WHERE chain_business = %s", (business_id,)
    ).fetchone()
    return int(row[0]) if row else 0


def _estimate(conn: psycopg.Connection[Any]) -> int:
    """The planner's estimate of the store's events: free, enough for a progress bar."""
    row = conn.execute(
        "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", (EVENTS_TABLE,)
    ).fetchone()
    return max(int(row[0] or 0), 0) if row else 0


def _name_missing(conn: psycopg.Connection[Any], found: Break) -> Break:
    """A removed event leaves a hole in its aggregate's versions: name it when it does."""
    if found.originator_id is not None:
        return found
    hole = conn.execute(
        "SELECT originator_id, originator_version + 1 FROM ("
        " SELECT originator_id, originator_version, lead(originator_version)"
        "  OVER (PARTITION BY originator_id ORDER BY originator_version) AS following"
        f" FROM {EVENTS_TABLE} WHERE chain_business = %s) versions"
        " WHERE following <> originator_version + 1 ORDER BY 1, 2 LIMIT 1",
        (found.business_id,),
    ).fetchone()
    if hole is None:
        return found
    return Break(
        found.business_id,
        found.position,
        hole[0],
        hole[1],
        found.reason + " (its aggregate lacks this version)",
    )
