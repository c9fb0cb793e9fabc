"""The live path: the library's projection runner on each read model, one event per
transaction with its tracking row, kept going by a supervisor (restarts with backoff, one
active runner per read model across processes)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
import structlog
from eventsourcing.application import Application
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import BaseProjectionRunner, Projection
from eventsourcing.utils import Environment

from fastfaktura.adapters.database import TunedPostgresFactory
from fastfaktura.adapters.deadlines import whole_seconds
from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.readmodels.events import EventReader
from fastfaktura.readmodels.model import Folder, ReadModel
from fastfaktura.readmodels.rows import rows_of, tracking_sql, write_rows

log = structlog.get_logger(__name__)

# A failed runner restarts after 0.5 s, doubling up to this: a projection is back within a few
# seconds of its database.
MAX_RESTART_BACKOFF_SECONDS = 4.0


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


class LiveRunner(BaseProjectionRunner[Application[UUID]]):
    """The library's runner (LISTEN/NOTIFY subscription, commit-ordered reads) on one model.

    Fixed pools (budget.RUNNER_CONNECTIONS with the supervisor's lock): the tracking recorder
    writes from one thread (1); the upstream store holds LISTEN and reads notifications (2).
    The runner builds that upstream application itself, from the reader's application class.
    """

    def __init__(self, model: ReadModel, env: dict[str, str], events: EventReader) -> None:
        # Bounded by the environment's deadline, when it has one (adapters/deadlines.py).
        self._factory = TunedPostgresFactory(Environment(model.name, _pool(env, 1)))
        self.view = ReadModelView(
            self._factory.datastore, model=model, folder=Folder(events.load, 20_000)
        )
        super().__init__(
            projection=ReadModelProjection(view=self.view),
            application_class=events.application_class,
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
    events: EventReader
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
        runner = LiveRunner(model, self.env, self.events)
        try:
            with runner:
                state.status, state.error = "running", None
                log.info("projection running", projection=model.name)
                while not self._stopping.is_set():
                    runner.run_forever(timeout=0.5)
        finally:
            runner.close()
