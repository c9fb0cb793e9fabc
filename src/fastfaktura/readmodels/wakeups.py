"""One LISTEN for all the live runners of a process, waking only those an append concerns.

The library gives each runner's subscription a LISTEN connection of its own: every append
woke every runner (a listening thread, then a pulling thread running its query), though most
read models have nothing in it. On one core under one GIL, those wake-ups delayed the request
that appended, and the runner the event was for.

Here one thread listens, reads the topics of the events appended since it last looked (one
small query on the notification-id index) and wakes the subscriptions of those topics. Each
subscription still pulls from its own position, as the library's does: a wake-up is only a
hint, so no event is skipped. Appends take the table lock until commit, so the ids committed
are a gap-free prefix and the hub's watermark never passes an event still to come. When its
connection fails the hub wakes every subscription, reconnects and wakes them all again.

An append made in this process need not wait for its NOTIFY: the command that made it tells
the hub what it recorded (`appended`, from its thread, once the append has committed), and the
hub wakes those subscriptions at once, one round trip (the hub's read) and one thread hop
sooner. The hub's read of those ids later wakes nobody again for them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import psycopg
import structlog
from eventsourcing.application import Application
from eventsourcing.persistence import ApplicationRecorder, ListenNotifySubscription
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql

from fastfaktura.adapters.deadlines import whole_seconds

log = structlog.get_logger(__name__)

# Topics read per query; past it the hub wakes every subscription (a burst: all are busy).
TOPICS_PER_READ = 5_000
RECONNECT_SECONDS = 0.5
# Its session's name in pg_stat_activity.
HUB_APPLICATION_NAME = "fastfaktura projection wake-ups"
# Ids woken by `appended` that the hub has not read yet; past it they are forgotten (the hub
# then wakes their subscriptions once more: a pull that finds nothing new).
MAX_WOKEN_HERE = 10_000


class HubSubscription(ListenNotifySubscription[PostgresApplicationRecorder]):
    """The library's subscription (its pull thread, from its own position) woken by the hub."""

    def __init__(
        self,
        recorder: PostgresApplicationRecorder,
        hub: NotifyHub,
        gt: int | None = None,
        topics: Sequence[str] = (),
    ) -> None:
        self._hub = hub
        self._wanted = frozenset(topics)
        # Registered before the first pull starts: whatever commits after that pull's read is
        # read by the hub later, with this subscription registered.
        hub.register(self, recorder)
        super().__init__(recorder=recorder, gt=gt, topics=topics)

    def concerns(self, topics: set[str]) -> bool:
        return not self._wanted or not self._wanted.isdisjoint(topics)

    def wake(self) -> None:
        notified: threading.Event | None = getattr(self, "_has_been_notified", None)
        if notified is not None:  # None: not started yet; its first pull reads everything
            notified.set()

    def stop(self) -> None:
        self._hub.unregister(self)
        super().stop()


class NotifyHub:
    """The process's one LISTEN on the event store's channel (a thread, started on first use)."""

    def __init__(self, database_url: str, connect_timeout: float | None = None) -> None:
        self._url = database_url
        self._connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._subscriptions: list[HubSubscription] = []
        # Ids appended in this process whose subscriptions `appended` woke already, and not
        # read by the hub yet: above `_read_up_to`, the last id the hub has read.
        self._woken_here: set[int] = set()
        self._read_up_to = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._channel = ""
        self._head = sql.Composed([])
        self._topics_since = sql.Composed([])

    def register(
        self, subscription: HubSubscription, recorder: PostgresApplicationRecorder
    ) -> None:
        with self._lock:
            self._subscriptions.append(subscription)
            if self._thread is None:
                self._channel = recorder.channel_name
                table = sql.Identifier(recorder.datastore.schema, recorder.events_table_name)
                self._head = sql.SQL("SELECT coalesce(max(notification_id), 0) FROM {}").format(
                    table
                )
                self._topics_since = sql.SQL(
                    "SELECT notification_id, topic FROM {} WHERE notification_id > %s"
                    " ORDER BY notification_id LIMIT %s"
                ).format(table)
                self._thread = threading.Thread(
                    target=self._run, name="projection-wakeups", daemon=True
                )
                self._thread.start()

    def unregister(self, subscription: HubSubscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def appended(self, recorded: Iterable[tuple[int, str]]) -> None:
        """Events this process appended and committed, as (notification id, topic): wake the
        subscriptions they concern now, not when their NOTIFY comes back. A wake-up is a hint
        (each subscription pulls from its own position), so waking twice is harmless."""
        recorded = list(recorded)
        self._wake({topic for _, topic in recorded})
        with self._lock:
            if len(self._woken_here) + len(recorded) > MAX_WOKEN_HERE:
                self._woken_here.clear()
            # Already read by the hub (it was quicker): it woke them, and reads them no more.
            self._woken_here.update(nid for nid, _ in recorded if nid > self._read_up_to)

    def _to_wake(self, rows: Sequence[tuple[int, str]]) -> set[str]:
        """The topics of these newly read events (in id order) whose subscriptions `appended`
        has not woken for them already."""
        with self._lock:
            topics = set()
            for nid, topic in rows:
                if nid in self._woken_here:
                    self._woken_here.discard(nid)
                else:
                    topics.add(topic)
            if rows:
                self._read_up_to = max(self._read_up_to, rows[-1][0])
            return topics

    def _read_from(self, watermark: int) -> None:
        """The hub reads what comes after `watermark` (it reconnected): nothing to skip below."""
        with self._lock:
            self._read_up_to = watermark
            self._woken_here = {nid for nid in self._woken_here if nid > watermark}

    def _wake(self, topics: set[str] | None) -> None:
        """Wake the subscriptions these topics concern (None: every one)."""
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            if topics is None or subscription.concerns(topics):
                subscription.wake()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._listen()
            except Exception as exc:
                log.warning("projection wake-ups: connection lost; reconnecting", error=str(exc))
            self._wake(None)  # whatever was appended while nobody listened
            self._stopping.wait(RECONNECT_SECONDS)

    def _listen(self) -> None:
        timeout = whole_seconds(self._connect_timeout) if self._connect_timeout else None
        with psycopg.connect(
            self._url,
            autocommit=True,
            connect_timeout=timeout,
            application_name=HUB_APPLICATION_NAME,
        ) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
            # From here every append is heard: wake all once for what came before.
            row = conn.execute(self._head).fetchone()
            watermark = int(row[0]) if row else 0
            self._read_from(watermark)
            self._wake(None)
            while not self._stopping.is_set():
                if any(True for _ in conn.notifies(timeout=0.5, stop_after=1)):
                    watermark = self._read_and_wake(conn, watermark)

    def _read_and_wake(self, conn: psycopg.Connection[Any], watermark: int) -> int:
        while True:
            rows = conn.execute(self._topics_since, (watermark, TOPICS_PER_READ)).fetchall()
            if not rows:
                return watermark
            watermark = int(rows[-1][0])
            topics = self._to_wake([(int(nid), str(topic)) for nid, topic in rows])
            if len(rows) < TOPICS_PER_READ:
                if topics:
                    self._wake(topics)
                return watermark
            self._wake(None)


def woken_by(application_class: type[Application[UUID]], hub: NotifyHub) -> type[Any]:
    """`application_class` (same name, same settings) whose recorder's subscriptions the hub
    wakes: what a live runner builds its upstream application from."""

    def construct_recorder(self: Application[UUID]) -> ApplicationRecorder:
        recorder = application_class.construct_recorder(self)
        if isinstance(recorder, PostgresApplicationRecorder):
            postgres = recorder

            def subscribe(gt: int | None = None, topics: Sequence[str] = ()) -> HubSubscription:
                return HubSubscription(postgres, hub, gt, topics)

            recorder.subscribe = subscribe  # type: ignore[method-assign]
        return recorder

    return type(
        application_class.__name__,
        (application_class,),
        {"name": application_class.name, "construct_recorder": construct_recorder},
    )
