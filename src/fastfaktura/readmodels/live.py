"""The live path: the library's projection runner on each read model, kept going by a
supervisor (restarts with backoff, one active runner per read model across processes).

A runner that is caught up applies each event in its own transaction with its tracking row
(the lowest latency); one that is behind applies what its subscription already holds, up to
BATCH_SIZE events, in one transaction with one tracking update."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
import structlog
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import BaseProjectionRunner, Projection
from eventsourcing.utils import Environment

from fastfaktura.adapters.database import TunedPostgresFactory
from fastfaktura.adapters.deadlines import whole_seconds
from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.readmodels.applied import AppliedBoard
from fastfaktura.readmodels.events import EventReader
from fastfaktura.readmodels.model import Folder, ReadModel
from fastfaktura.readmodels.rows import adapted, rows_of, tracking_sql, write_rows
from fastfaktura.readmodels.wakeups import NotifyHub, woken_by

log = structlog.get_logger(__name__)

# A failed runner restarts after 0.5 s, doubling up to this: a projection is back within a few
# seconds of its database.
MAX_RESTART_BACKOFF_SECONDS = 4.0
# The most events a runner that is behind applies in one transaction (the library's
# subscription fetches 500 at a time).
BATCH_SIZE = 500
# A read model's transaction does not wait for its WAL flush: once committed it is visible to
# every session at once (what read-your-writes needs). A crash may lose the last of them, rows
# and tracking row together (one transaction), and the runner applies those events again from
# the event store (whose appends do wait for the flush) when it starts.
QUICK_COMMIT = "SET LOCAL synchronous_commit TO off"


# The claim's SQLSTATE when the read model has applied the event already (migration 0032).
ALREADY_APPLIED = "FFA01"


class ReadModelView(PostgresTrackingRecorder):
    """Applies events to a read model, with its tracking row, in one transaction."""

    def __init__(
        self,
        datastore: Any,
        *,
        model: ReadModel,
        folder: Folder,
        board: AppliedBoard | None = None,
    ) -> None:
        super().__init__(datastore, tracking_table_name=model.tracking_table)
        self.model = model
        self.folder = folder
        self.board = board
        self._claim = tracking_sql(model, "claim")
        self._ensure = tracking_sql(model, "ensure")
        self._lock = tracking_sql(model, "lock")
        self._set = tracking_sql(model, "set")

    def apply_batch(self, batch: Sequence[tuple[Any, Tracking]]) -> None:
        """Events in notification order, in one transaction: each aggregate's latest state,
        one tracking update. Under the tracking-row lock, what a catch-up or a rebuild applied
        meanwhile (positions up to the row's) is left out: no event applied twice."""
        if len(batch) == 1:
            self.apply(*batch[0])
            return
        latest: dict[UUID, tuple[Aggregate, int]] = {}
        for domain_event, tracking in batch:
            aggregate = self.folder.apply(domain_event)
            latest[domain_event.originator_id] = (aggregate, tracking.notification_id)
        last = batch[-1][1].notification_id
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(QUICK_COMMIT)
            cursor.execute(self._ensure)
            cursor.execute(self._lock)
            row = cursor.fetchone()
            position = int(row["notification_id"] or 0) if row else 0
            if last > position:
                # An aggregate whose last event here is past the position: its state after it.
                fresh = [aggregate for aggregate, at in latest.values() if at > position]
                write_rows(cursor, self.model, rows_of(self.model, fresh))
                cursor.execute(self._set, {"position": last})
        self._announce(last)

    def apply(self, domain_event: Any, tracking: Tracking) -> None:
        rows = rows_of(self.model, [self.folder.apply(domain_event)])
        # One round trip: BEGIN, the claim, the rows and COMMIT in one pipeline, one Sync (the
        # connection is in autocommit mode: this block is the transaction; psycopg's own
        # transaction() and executemany() would each add a Sync). A lost claim raises
        # (migration 0032): the server skips the rest up to the Sync, COMMIT included.
        with self.datastore.get_connection() as conn:
            try:
                with conn.pipeline(), conn.cursor() as cursor:
                    cursor.execute("BEGIN")
                    cursor.execute(QUICK_COMMIT)
                    cursor.execute(self._claim, {"position": tracking.notification_id})
                    for table, table_rows in rows.items():
                        upsert = self.model.upsert_sql(table)
                        for row in table_rows:
                            cursor.execute(upsert, adapted(self.model, row))
                    cursor.execute("COMMIT")
            except psycopg.Error as error:
                conn.rollback()  # the failed transaction block, if the error left one open
                if error.sqlstate != ALREADY_APPLIED:
                    raise
                # The tracking row is at or past it: committed too, announced alike.
        self._announce(tracking.notification_id)

    def _announce(self, position: int) -> None:
        # Only once the transaction has committed: a waiter told now reads what it wrote.
        if self.board is not None:
            self.board.announce(self.model.name, position)


class ReadModelProjection(Projection[ReadModelView]):
    name = "read_model"

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.apply(domain_event, tracking)

    def process_batch(self, batch: Sequence[tuple[Any, Tracking]]) -> None:
        self.view.apply_batch(batch)


def _buffered(subscription: Any) -> bool:
    """Whether the subscription holds another event already (its pull thread fetched it), so
    that taking it does not wait. Reads the library's ListenNotifySubscription buffers (9.5);
    without them, False: one event per transaction, as before."""
    inner: Any = getattr(subscription, "subscription", None)
    try:
        return bool(
            inner._notifications_index < len(inner._notifications)
            or not inner._notifications_queue.empty()
        )
    except AttributeError:
        return False


def batches(subscription: Any, size: int = BATCH_SIZE) -> Iterator[list[tuple[Any, Tracking]]]:
    """The subscription's events in batches: the first waits, the rest are only what is
    buffered already (a caught-up runner gets batches of one, at once)."""
    events = iter(subscription)
    for first in events:
        batch = [first]
        while len(batch) < size and _buffered(subscription):
            try:
                batch.append(next(events))
            except StopIteration:
                break
        yield batch


def _pool(env: dict[str, str], size: int) -> dict[str, str]:
    return {**env, "POSTGRES_POOL_SIZE": str(size), "POSTGRES_MAX_OVERFLOW": "0"}


class LiveRunner(BaseProjectionRunner[Application[UUID]]):
    """The library's runner (LISTEN/NOTIFY subscription, commit-ordered reads) on one model.

    Fixed pools (budget.RUNNER_CONNECTIONS with the supervisor's lock): the tracking recorder
    writes from one thread (1); the upstream store holds LISTEN and reads notifications (2),
    or only reads them (1) when the process's hub (readmodels/wakeups.py, one connection for
    all runners) listens instead. The runner builds that upstream application itself, from
    the reader's application class.
    """

    def __init__(
        self,
        model: ReadModel,
        env: dict[str, str],
        events: EventReader,
        board: AppliedBoard | None = None,
        hub: NotifyHub | None = None,
    ) -> None:
        # Bounded by the environment's deadline, when it has one (adapters/deadlines.py).
        self._factory = TunedPostgresFactory(Environment(model.name, _pool(env, 1)))
        self.view = ReadModelView(
            self._factory.datastore,
            model=model,
            folder=Folder(events.load, 20_000),
            board=board,
        )
        super().__init__(
            projection=ReadModelProjection(view=self.view),
            application_class=(
                woken_by(events.application_class, hub) if hub else events.application_class
            ),
            tracking_recorder=self.view,
            topics=model.topics,
            # Woken by the hub, the upstream store only reads notifications: one connection.
            env=_pool(env, 1 if hub else 2),
        )

    def close(self) -> None:
        self._factory.close()

    @staticmethod
    def _process_events_loop(
        subscription: Any,
        projection: Any,
        is_stopping: threading.Event,
        runner: Any,
    ) -> None:
        """The library's event loop (BaseProjectionRunner._process_events_loop, which its
        constructor starts in a thread), applying batches instead of single events."""
        try:
            for batch in batches(subscription):
                projection.process_batch(batch)
        except BaseException as error:
            live_runner = runner()
            if live_runner is not None:
                live_runner._thread_error = error
        finally:
            is_stopping.set()


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
    events: EventReader
    models: Sequence[ReadModel]
    connect_timeout: float | None = None
    # Where the runners announce their commits to this process's read-your-writes wait.
    board: AppliedBoard | None = None
    # One LISTEN for all the runners here (readmodels/wakeups.py); False: one per runner.
    shared_listen: bool = True
    states: dict[str, RunnerState] = field(default_factory=dict)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _hub: NotifyHub | None = None

    def start(self) -> None:
        if self.shared_listen:
            self._hub = NotifyHub(self.database_url, self.connect_timeout)
        for model in self.models:
            self.states[model.name] = RunnerState(model.name)
            thread = threading.Thread(
                target=self._supervise, args=(model,), name=f"projection-{model.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def appended(self, recorded: Sequence[tuple[int, str]]) -> None:
        """This process appended (and committed) these events, as (notification id, topic):
        wake the runners they concern now (readmodels/wakeups.py), from the appending thread."""
        if self._hub is not None:
            self._hub.appended(recorded)

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=10)
        if self._hub is not None:
            self._hub.stop()

    def _supervise(self, model: ReadModel) -> None:
        state = self.states[model.name]
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                with psycopg.connect(
                    self.database_url, autocommit=True, connect_timeout=self._connect_timeout()
                ) as lock_conn:
                    got = lock_conn.execute(
                        local_statement(__file__, "live.sql", "try_lock"),
                        {"lock": f"fastfaktura.projection.{model.name}"},
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
        runner = LiveRunner(model, self.env, self.events, self.board, self._hub)
        try:
            with runner:
                state.status, state.error = "running", None
                log.info("projection running", projection=model.name)
                if self.board is not None:
                    self.board.started(model.name)
                try:
                    while not self._stopping.is_set():
                        runner.run_forever(timeout=0.5)
                finally:
                    if self.board is not None:
                        self.board.stopped(model.name)
        finally:
            runner.close()
