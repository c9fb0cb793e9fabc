"""Rebuild: replay the whole store into fresh tables, then swap them in atomically."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from uuid import UUID

import psycopg
import structlog
from psycopg.rows import dict_row

from fastfaktura.readmodels.backfill import OpenReader, backfill_partition
from fastfaktura.readmodels.events import EventReader
from fastfaktura.readmodels.fresh_tables import REBUILD_SUFFIX, create_fresh, index_fresh, swap
from fastfaktura.readmodels.model import Folder, ReadModel
from fastfaktura.readmodels.rows import (
    fold,
    lock_tracking,
    pages,
    rows_of,
    tracking_sql,
    write_rows,
)
from fastfaktura.readmodels.scan import PARALLEL_FROM_EVENTS, partitions

__all__ = ["REBUILD_SUFFIX", "RebuildResult", "rebuild", "rebuild_many"]

log = structlog.get_logger(__name__)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RebuildResult:
    name: str
    events: int
    position: int


def rebuild(
    events: EventReader,
    database_url: str,
    model: ReadModel,
    *,
    workers: int = 2,
    progress: Progress | None = None,
) -> RebuildResult:
    """Replay the whole store into one read model's fresh tables, then swap them in."""
    return rebuild_many(events, database_url, [model], workers=workers, progress=progress)[0]


def rebuild_many(
    events: EventReader,
    database_url: str,
    models: Sequence[ReadModel],
    *,
    workers: int = 2,
    progress: Progress | None = None,
) -> list[RebuildResult]:
    """Replay the whole store into fresh tables of these read models, then swap each in.

    Backfill: every aggregate up to the current head, read once in id order (by `workers`
    processes over partitions of the id space on a large store), folded once, its rows COPied
    into the fresh tables of every model it feeds; then the indexes are built (on `workers`
    connections side by side). Swap, a model at
    a time: under its tracking-row lock (live writers wait), apply what was recorded since,
    rename, set the position. Readers keep the old tables until that commit: they never see a
    half-built model.
    """
    upto = events.head()
    names = [model.name for model in models]
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        for model in models:
            create_fresh(conn, model)
        # Worker processes cost about a second to start: only worth it on a large store.
        if workers > 1 and upto >= PARALLEL_FROM_EVENTS:
            folded = _parallel_backfill(events.opener, database_url, names, upto, workers, progress)
        else:
            folded = backfill_partition(
                events.opener, database_url, names, (UUID(int=0), None), upto
            )
        if progress is not None:
            progress(upto, upto)
        plans = index_fresh(database_url, models, workers)
        results = []
        for model in models:
            with conn.transaction():
                tracked = lock_tracking(conn, model)
                applied, position = _catch_up_fresh(conn, events, model, upto)
                swap(conn, model, plans[model.name])
                position = max(position, tracked)
                conn.execute(tracking_sql(model, "set"), {"position": position})
            results.append(RebuildResult(model.name, folded[model.name] + applied, position))
            log.info(
                "read model rebuilt",
                projection=model.name,
                events=results[-1].events,
                position=position,
            )
    return results


def _catch_up_fresh(
    conn: psycopg.Connection[dict[str, object]],
    events: EventReader,
    model: ReadModel,
    upto: int,
) -> tuple[int, int]:
    """Events recorded during the backfill, written into the fresh tables (under the tracking
    lock, so none is missed): how many, and the last position."""
    applied, position = 0, upto
    folder = Folder(events.load)
    for page in pages(events, model, upto):
        with conn.cursor() as cursor:
            write_rows(
                cursor, model, rows_of(model, fold(events, folder, page).values()), REBUILD_SUFFIX
            )
        applied += len(page)
        position = page[-1].id
    return applied, position


def _parallel_backfill(
    open_reader: OpenReader,
    database_url: str,
    names: list[str],
    upto: int,
    workers: int,
    progress: Progress | None,
) -> dict[str, int]:
    # More partitions than workers: finer progress and better balance.
    parts = partitions(workers * 8)
    folded = dict.fromkeys(names, 0)
    done = 0
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [
            pool.submit(backfill_partition, open_reader, database_url, names, part, upto)
            for part in parts
        ]
        for future in as_completed(futures):
            for name, count in future.result().items():
                folded[name] += count
            done += 1
            if progress is not None:
                progress(upto * done // len(parts), upto)
    return folded
