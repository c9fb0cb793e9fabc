"""Rebuild: replay the whole store into fresh tables, then swap them in atomically."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
import structlog
from psycopg import sql
from psycopg.rows import dict_row

from fastfaktura.readmodels.events import EventReader
from fastfaktura.readmodels.model import Folder, ReadModel, Row
from fastfaktura.readmodels.rows import (
    adapted,
    fold,
    lock_tracking,
    pages,
    rows_of,
    tracking_sql,
    write_rows,
)
from fastfaktura.readmodels.scan import PARALLEL_FROM_EVENTS, Partition, aggregates, partitions

log = structlog.get_logger(__name__)

REBUILD_SUFFIX = "__rebuild"
Progress = Callable[[int, int], None]
OpenReader = Callable[[str], EventReader]


@dataclass(frozen=True)
class RebuildResult:
    name: str
    events: int
    position: int


def _copy_rows(
    conn: psycopg.Connection[Any], model: ReadModel, table: str, rows: list[Row]
) -> None:
    """COPY rows into a fresh table: each aggregate comes once in an ordered scan, so no upsert."""
    if not rows:
        return
    columns = list(rows[0])
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor().copy(statement) as copy:
        for row in rows:
            stored = adapted(model, row)
            copy.write_row([stored[c] for c in columns])


def backfill_partition(
    open_reader: OpenReader,
    database_url: str,
    model_name: str,
    partition: Partition,
    upto: int,
    suffix: str,
) -> int:
    """Fold one id range of the store (events <= `upto`) into the fresh tables. Runs in a
    worker process: it opens its own connections. Returns the number of events folded."""
    from fastfaktura.readmodels.models import read_model

    model = read_model(model_name)
    events = open_reader(database_url)
    folded = 0
    buffered: dict[str, list[Row]] = {table: [] for table in model.tables}
    try:
        with (
            psycopg.connect(database_url) as scan_conn,
            psycopg.connect(database_url, autocommit=True) as out,
        ):

            def flush() -> None:
                with out.transaction():
                    for table, rows in buffered.items():
                        _copy_rows(out, model, table + suffix, rows)
                        rows.clear()

            for count, aggregate in enumerate(
                aggregates(events, scan_conn, model, partition, upto=upto), 1
            ):
                folded += aggregate.version
                for table, rows in model.rows(aggregate).items():
                    buffered[table].extend(rows)
                if count % 2000 == 0:
                    flush()
            flush()
    finally:
        events.close()
    return folded


def _fresh_tables(conn: psycopg.Connection[Any], model: ReadModel) -> None:
    with conn.transaction():
        for table in model.tables:
            fresh = sql.Identifier(table + REBUILD_SUFFIX)
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(fresh))
            conn.execute(
                sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
                    fresh, sql.Identifier(table)
                )
            )


def rebuild(
    events: EventReader,
    database_url: str,
    model: ReadModel,
    *,
    workers: int = 2,
    progress: Progress | None = None,
) -> RebuildResult:
    """Replay the whole store into fresh tables, then swap them in atomically.

    Backfill: every aggregate up to the current head, folded in id order by `workers`
    processes over partitions of the id space and COPied in. Swap: under the tracking-row
    lock (live writers wait), apply what was recorded since, rename, set the position.
    Readers keep the old tables until that commit: they never see a half-built model.
    """
    upto = events.head()
    applied = 0
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        _fresh_tables(conn, model)
        # Worker processes cost about a second to start: only worth it on a large store.
        if model.order_column is not None and workers > 1 and upto >= PARALLEL_FROM_EVENTS:
            applied = _parallel_backfill(
                events.opener, database_url, model, upto, workers, progress
            )
        else:
            applied = backfill_partition(
                events.opener, database_url, model.name, (UUID(int=0), None), upto, REBUILD_SUFFIX
            )
        if progress is not None:
            progress(upto, upto)
        # Fresh tables have no statistics and an empty visibility map: without this, queries
        # right after the swap plan badly and count(*) reads the heap (15-20x slower).
        for table in model.tables:
            conn.execute(
                sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table + REBUILD_SUFFIX))
            )

        with conn.transaction():
            tracked = lock_tracking(conn, model)
            position = upto
            # Events recorded during the backfill: applied under the lock, so none is missed.
            folder = Folder(events.load)
            for page in pages(events, model, upto):
                with conn.cursor() as cursor:
                    write_rows(
                        cursor,
                        model,
                        rows_of(model, fold(events, folder, page).values()),
                        REBUILD_SUFFIX,
                    )
                applied += len(page)
                position = page[-1].id
            for table in model.tables:
                conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))
                conn.execute(
                    sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                        sql.Identifier(table + REBUILD_SUFFIX), sql.Identifier(table)
                    )
                )
            position = max(position, tracked)
            conn.execute(tracking_sql(model, "set"), {"position": position})
    log.info("read model rebuilt", projection=model.name, events=applied, position=position)
    return RebuildResult(model.name, applied, position)


def _parallel_backfill(
    open_reader: OpenReader,
    database_url: str,
    model: ReadModel,
    upto: int,
    workers: int,
    progress: Progress | None,
) -> int:
    # More partitions than workers: finer progress and better balance.
    parts = partitions(workers * 8)
    events = 0
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [
            pool.submit(
                backfill_partition,
                open_reader,
                database_url,
                model.name,
                part,
                upto,
                REBUILD_SUFFIX,
            )
            for part in parts
        ]
        for future in as_completed(futures):
            events += future.result()
            if progress is not None:
                progress(min(events, upto), upto)
    return events
