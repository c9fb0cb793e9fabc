"""Running the read models: live (library runner), catch-up, rebuild with atomic swap, status.

Every write to a read model happens in one transaction with its tracking row, and the tracking
row is written first: a rebuild's swap locks that row, so a live writer waits, then sees the
event was applied and skips it. That makes live runner, catch-up and rebuild safe together.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import msgspec
import psycopg
import structlog
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Notification, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import BaseProjectionRunner, Projection
from eventsourcing.utils import Environment
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from fastfaktura.adapters.database import ConnectionParams, TunedPostgresFactory
from fastfaktura.adapters.deadlines import whole_seconds
from fastfaktura.application import Invoicing
from fastfaktura.readmodels.model import Folder, ReadModel, Row
from fastfaktura.readmodels.scan import Partition, aggregates, partitions
from fastfaktura.readmodels.sql import statement

log = structlog.get_logger(__name__)

PAGE_SIZE = 1000
_JSON = msgspec.json.Encoder()
REBUILD_SUFFIX = "__rebuild"
PARALLEL_FROM_EVENTS = 50_000
# A failed runner restarts after 0.5 s, doubling up to this: a projection is back within a few
# seconds of its database.
MAX_RESTART_BACKOFF_SECONDS = 4.0
Loader = Callable[[UUID, int], Aggregate]
Progress = Callable[[int, int], None]


def tracking_sql(model: ReadModel, name: str) -> sql.Composed:
    return sql.SQL(statement("_tracking", "apply.sql", name)).format(
        tracking=sql.Identifier(model.tracking_table)
    )


def rows_of(model: ReadModel, aggregates: Iterable[Aggregate]) -> dict[str, list[Row]]:
    merged: dict[str, list[Row]] = {table: [] for table in model.tables}
    for aggregate in aggregates:
        for table, rows in model.rows(aggregate).items():
            merged[table].extend(rows)
    return merged


def _json_text(value: Any) -> str:
    return _JSON.encode(value).decode()


def _adapted(model: ReadModel, row: Row) -> Row:
    if not model.json_columns:
        return row
    return {k: Jsonb(v, dumps=_json_text) if k in model.json_columns else v for k, v in row.items()}


def write_rows(
    cursor: psycopg.Cursor[Any], model: ReadModel, rows: dict[str, list[Row]], suffix: str = ""
) -> None:
    for table, table_rows in rows.items():
        if table_rows:
            cursor.executemany(
                model.upsert_sql(table, table + suffix),
                [_adapted(model, row) for row in table_rows],
            )


def fold(
    app: Invoicing, folder: Folder, notifications: Sequence[Notification]
) -> dict[UUID, Aggregate]:
    """The latest state of every aggregate touched by these notifications."""
    latest: dict[UUID, Aggregate] = {}
    for notification in notifications:
        event = app.mapper.to_domain_event(notification)
        latest[event.originator_id] = folder.apply(event)
    return latest


def loader(app: Invoicing) -> Loader:
    def load(aggregate_id: UUID, version: int) -> Aggregate:
        aggregate: Aggregate = app.repository.get(aggregate_id, version=version)
        return aggregate

    return load


# -- live path ---------------------------------------------------------------------------------


class _AlreadyApplied(Exception):
    pass


class ReadModelView(PostgresTrackingRecorder):
    """Applies one event to a read model, with its tracking row, in one transaction."""

    def __init__(self, datastore: Any, *, model: ReadModel, folder: Folder) -> None:
        super().__init__(datastore, tracking_table_name=model.tracking_table)
        self.model = model
        self.folder = folder
        self._advance = tracking_sql(model, "advance")

    def apply(self, domain_event: Any, tracking: Tracking) -> None:
        rows = rows_of(self.model, [self.folder.apply(domain_event)])
        try:
            with self.datastore.transaction(commit=True) as cursor:
                cursor.execute(self._advance, {"position": tracking.notification_id})
                if cursor.fetchone() is None:
                    raise _AlreadyApplied
                write_rows(cursor, self.model, rows)
        except _AlreadyApplied:
            pass


class ReadModelProjection(Projection[ReadModelView]):
    name = "read_model"

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.apply(domain_event, tracking)


def _pool(env: dict[str, str], size: int) -> dict[str, str]:
    return {**env, "POSTGRES_POOL_SIZE": str(size), "POSTGRES_MAX_OVERFLOW": "0"}


class LiveRunner(BaseProjectionRunner[Invoicing]):
    """The library's runner (LISTEN/NOTIFY subscription, commit-ordered reads) on one model.

    Fixed pools (budget.RUNNER_CONNECTIONS with the supervisor's lock): the tracking recorder
    writes from one thread (1); the upstream store holds LISTEN and reads notifications (2).
    """

    def __init__(self, model: ReadModel, env: dict[str, str], load: Loader) -> None:
        # Bounded by the environment's deadline, when it has one (adapters/deadlines.py).
        self._factory = TunedPostgresFactory(Environment(model.name, _pool(env, 1)))
        self.view = ReadModelView(self._factory.datastore, model=model, folder=Folder(load, 20_000))
        super().__init__(
            projection=ReadModelProjection(view=self.view),
            application_class=Invoicing,
            tracking_recorder=self.view,
            topics=model.topics,
            env=_pool(env, 2),
        )

    def close(self) -> None:
        self._factory.close()


@dataclass
class RunnerState:
    name: str
    status: str = "starting"
    error: str | None = None
    restarts: int = 0


@dataclass
class ProjectionSupervisor:
    """Keeps one live runner per read model going: restarts it with backoff when it fails.

    A session advisory lock per read model makes exactly one process (of many) its active
    runner; the others stand by and take over when it goes away. `connect_timeout` (seconds)
    bounds connecting for that lock (a frozen server would hold it forever).
    """

    database_url: str
    env: dict[str, str]
    load: Loader
    models: Sequence[ReadModel]
    connect_timeout: float | None = None
    states: dict[str, RunnerState] = field(default_factory=dict)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for model in self.models:
            self.states[model.name] = RunnerState(model.name)
            thread = threading.Thread(
                target=self._supervise, args=(model,), name=f"projection-{model.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _supervise(self, model: ReadModel) -> None:
        state = self.states[model.name]
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                with psycopg.connect(
                    self.database_url, autocommit=True, connect_timeout=self._connect_timeout()
                ) as lock_conn:
                    got = lock_conn.execute(
                        "SELECT pg_try_advisory_lock(hashtext(%s))",
                        (f"fastfaktura.projection.{model.name}",),
                    ).fetchone()
                    if not got or not got[0]:
                        state.status = "standby"
                        self._stopping.wait(2.0)
                        continue
                    self._run(model, state)
                backoff = 0.5
            except Exception as exc:
                state.status = "failed"
                state.error = f"{type(exc).__name__}: {exc}"
                state.restarts += 1
                log.error(
                    "projection failed; restarting",
                    projection=model.name,
                    error=state.error,
                    backoff=backoff,
                )
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, MAX_RESTART_BACKOFF_SECONDS)

    def _connect_timeout(self) -> int | None:
        return whole_seconds(self.connect_timeout) if self.connect_timeout else None

    def _run(self, model: ReadModel, state: RunnerState) -> None:
        runner = LiveRunner(model, self.env, self.load)
        try:
            with runner:
                state.status, state.error = "running", None
                log.info("projection running", projection=model.name)
                while not self._stopping.is_set():
                    runner.run_forever(timeout=0.5)
        finally:
            runner.close()


# -- batched paths: catch-up and rebuild ------------------------------------------------------


def _pages(
    app: Invoicing, model: ReadModel, after: int, page_size: int
) -> Iterable[Sequence[Notification]]:
    while True:
        page = app.recorder.select_notifications(
            start=after, limit=page_size, topics=model.topics, inclusive_of_start=False
        )
        if not page:
            return
        yield page
        after = page[-1].id


def _lock_tracking(conn: psycopg.Connection[Any], model: ReadModel) -> int:
    conn.execute(tracking_sql(model, "ensure"))
    row = conn.execute(tracking_sql(model, "lock")).fetchone()
    assert row is not None
    return int(row["notification_id"] or 0)


def catch_up(
    app: Invoicing, database_url: str, model: ReadModel, page_size: int = PAGE_SIZE
) -> int:
    """Apply every event the read model has not seen yet, a page per transaction.

    Safe beside a live runner: it holds the tracking row while it writes a page.
    """
    applied = 0
    folder = Folder(loader(app))
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        while True:
            with conn.transaction():
                position = _lock_tracking(conn, model)
                page = app.recorder.select_notifications(
                    start=position, limit=page_size, topics=model.topics, inclusive_of_start=False
                )
                if not page:
                    return applied
                with conn.cursor() as cursor:
                    write_rows(cursor, model, rows_of(model, fold(app, folder, page).values()))
                conn.execute(tracking_sql(model, "set"), {"position": page[-1].id})
            applied += len(page)


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
        for row in _adapted_rows(model, rows):
            copy.write_row([row[c] for c in columns])


def _adapted_rows(model: ReadModel, rows: list[Row]) -> list[Row]:
    return [_adapted(model, row) for row in rows]


def backfill_partition(
    database_url: str, model_name: str, partition: Partition, upto: int, suffix: str
) -> int:
    """Fold one id range of the store (events <= `upto`) into the fresh tables. Runs in a
    worker process: it opens its own connections. Returns the number of events folded."""
    from fastfaktura.readmodels.models import read_model

    model = read_model(model_name)
    # Its mapper only (budget.PARTITION_CONNECTIONS).
    app = Invoicing(
        ConnectionParams.from_url(database_url).eventsourcing_env(pool_size=1, max_overflow=0)
    )
    events = 0
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
                aggregates(app, scan_conn, model, partition, upto=upto), 1
            ):
                events += aggregate.version
                for table, rows in model.rows(aggregate).items():
                    buffered[table].extend(rows)
                if count % 2000 == 0:
                    flush()
            flush()
    finally:
        app.close()
    return events


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
    app: Invoicing,
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
    upto = app.recorder.max_notification_id() or 0
    events = 0
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        _fresh_tables(conn, model)
        # Worker processes cost about a second to start: only worth it on a large store.
        if model.order_column is not None and workers > 1 and upto >= PARALLEL_FROM_EVENTS:
            events = _parallel_backfill(database_url, model, upto, workers, progress)
        else:
            events = backfill_partition(
                database_url, model.name, (UUID(int=0), None), upto, REBUILD_SUFFIX
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
            tracked = _lock_tracking(conn, model)
            position = upto
            # Events recorded during the backfill: applied under the lock, so none is missed.
            folder = Folder(loader(app))
            for page in _pages(app, model, upto, PAGE_SIZE):
                with conn.cursor() as cursor:
                    write_rows(
                        cursor,
                        model,
                        rows_of(model, fold(app, folder, page).values()),
                        REBUILD_SUFFIX,
                    )
                events += len(page)
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
    log.info("read model rebuilt", projection=model.name, events=events, position=position)
    return RebuildResult(model.name, events, position)


def _parallel_backfill(
    database_url: str, model: ReadModel, upto: int, workers: int, progress: Progress | None
) -> int:
    # More partitions than workers: finer progress and better balance.
    parts = partitions(workers * 8)
    events = 0
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [
            pool.submit(backfill_partition, database_url, model.name, part, upto, REBUILD_SUFFIX)
            for part in parts
        ]
        for future in as_completed(futures):
            events += future.result()
            if progress is not None:
                progress(min(events, upto), upto)
    return events
