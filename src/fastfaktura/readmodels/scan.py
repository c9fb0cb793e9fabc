"""Ordered scans: every aggregate of a read model folded from its events, one at a time.

Events are read in the event store's primary-key order (originator_id, originator_version),
so each aggregate's events arrive together and memory stays flat however large the store.
The id space is cut into partitions that worker processes scan in parallel.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent
from psycopg.rows import tuple_row

from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.readmodels.events import EventReader
from fastfaktura.readmodels.model import ReadModel

_SPACE = 1 << 128
# Rebuild and audit scan in worker processes from this store size on: they cost about a second
# to start, only worth it on a large store.
PARALLEL_FROM_EVENTS = 50_000
Partition = tuple[UUID, UUID | None]  # [low, high): None is the end of the id space


# The cyclic collector's pace during a scan (gen0, gen1, gen2 thresholds; the default is 700,
# 10, 10): see `few_collections`.
SCAN_GC_THRESHOLDS = (50_000, 20, 100)


_scans = 0  # scans running in this process (threads), under _scans_lock
_scans_lock = threading.Lock()
_default_thresholds = gc.get_threshold()


@contextmanager
def few_collections() -> Iterator[None]:
    """Run a scan with the cyclic garbage collector paced for it. A scan allocates millions of
    short-lived containers (decoded states, aggregates, rows) that reference counting frees,
    and hardly any cycle; at the default pace the collector ran every 700 allocations and its
    full collections traversed every batch held for a COPY: 11 % of a rebuild's CPU
    (gc.callbacks, 100,030 events), under 2 % at this pace. The objects the process held
    before (its modules) are frozen out of the collections meanwhile. Scans of several threads
    may overlap: the first sets the pace, the last one out restores the process's own."""
    global _scans, _default_thresholds
    with _scans_lock:
        if _scans == 0:
            _default_thresholds = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(*SCAN_GC_THRESHOLDS)
        _scans += 1
    try:
        yield
    finally:
        with _scans_lock:
            _scans -= 1
            if _scans == 0:
                gc.set_threshold(*_default_thresholds)
                gc.unfreeze()


def partitions(count: int) -> list[Partition]:
    bounds = [UUID(int=i * _SPACE // count) for i in range(count)]
    return [(low, bounds[i + 1] if i + 1 < count else None) for i, low in enumerate(bounds)]


def aggregates(
    events: EventReader,
    conn: psycopg.Connection[Any],
    model: ReadModel,
    partition: Partition,
    *,
    upto: int | None = None,
) -> Iterator[Aggregate]:
    """Each aggregate of the partition at its latest event (or its last one <= `upto`)."""
    return aggregates_of(events, conn, model.topics, partition, upto=upto)


def aggregates_of(
    events: EventReader,
    conn: psycopg.Connection[Any],
    topics: Iterable[str],
    partition: Partition,
    *,
    upto: int | None = None,
) -> Iterator[Aggregate]:
    """Each aggregate with events of these topics in the partition, at its latest event (or
    its last one <= `upto`): one scan for every read model of a rebuild."""
    decode = events.decode
    return folded(
        conn,
        lambda originator_id, version, topic, state: decode(
            StoredEvent(originator_id, version, topic, state)
        ),
        topics,
        partition,
        upto,
    )


# How a scan turns a stored row into its domain event: (originator id, version, topic, state).
Decode = Callable[[UUID, int, str, bytes], Any]
EVENTS_PER_FETCH = 10_000


def folded(
    conn: psycopg.Connection[Any],
    decode: Decode,
    topics: Iterable[str],
    partition: Partition,
    upto: int | None,
) -> Iterator[Any]:
    """The aggregates of the partition with events of these topics, each folded from its events
    (those at positions <= `upto`), streamed by a binary server-side cursor in big fetches."""
    low, high = partition
    params = {"topics": sorted(topics), "low": low, "high": high, "upto": upto}
    current: Any = None
    with conn.cursor(name="fastfaktura_scan", binary=True, row_factory=tuple_row) as cursor:
        cursor.itersize = EVENTS_PER_FETCH
        cursor.execute(local_statement(__file__, "scan.sql", "events_in_id_order"), params)
        while batch := cursor.fetchmany(EVENTS_PER_FETCH):
            for originator_id, version, topic, state in batch:
                event: Any = decode(originator_id, version, topic, bytes(state))
                if current is not None and current.id != originator_id:
                    yield current
                    current = None
                current = event.mutate(current)
    if current is not None:
        yield current
