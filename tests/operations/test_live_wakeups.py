"""The write-to-visible path (issue 12): the live runners of a process share one LISTEN (the hub
wakes only the runners an append concerns) and announce each commit to the read-your-writes wait
of their process. Neither may cost an event (no skip), nor tell a waiter a position before its
rows are readable."""

from __future__ import annotations

import asyncio
import re
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import asyncpg
import psycopg
import pytest
from eventsourcing.persistence import Tracking
from eventsourcing.utils import Environment

from fastfaktura.adapters.database import ConnectionParams, TunedPostgresFactory
from fastfaktura.application import Invoicing
from fastfaktura.event_reader import event_reader
from fastfaktura.readmodels.applied import AppliedBoard
from fastfaktura.readmodels.live import LiveRunner, ReadModelView
from fastfaktura.readmodels.model import Folder
from fastfaktura.readmodels.models import read_model
from fastfaktura.readmodels.queries.positions import PositionWatcher
from fastfaktura.readmodels.wakeups import HUB_APPLICATION_NAME, NotifyHub
from tests.conftest import invoicing_on
from tests.operations.test_live_batches import _business, _rows, own_database

__all__ = ["own_database"]  # the fixture, used by name

CLIENTS = read_model("clients")
CLIENT_CREATED = "fastfaktura:Client.Created"


@pytest.fixture
def hub(own_database: str) -> Iterator[NotifyHub]:
    woken = NotifyHub(own_database)
    yield woken
    woken.stop()


def _runner(
    url: str, app: Invoicing, hub: NotifyHub, board: AppliedBoard | None = None
) -> LiveRunner:
    env = ConnectionParams.from_url(url).eventsourcing_env(pool_size=1, max_overflow=0)
    return LiveRunner(CLIENTS, env, event_reader(app), board=board, hub=hub)


def _register(app: Invoicing, business: UUID, names: list[str]) -> list[UUID]:
    return [app.register_client(business, {"name": name}).value.id for name in names]


def test_the_hub_wakes_its_runner_for_every_later_event_also_after_losing_its_connection(
    own_database: str, hub: NotifyHub
) -> None:
    with invoicing_on(own_database, pool_size=4, max_overflow=4) as app:
        business = _business(app)
        with _runner(own_database, app, hub) as runner:
            made = _register(app, business, ["Before 1", "Before 2"])
            runner.wait(app.recorder.max_notification_id(), timeout=30)
            # Concurrent writers: the hub's watermark must not pass an event still to come.
            errors: list[BaseException] = []

            def write(n: int) -> None:
                try:
                    made.extend(_register(app, business, [f"W{n}-{i}" for i in range(15)]))
                except BaseException as exc:  # pragma: no cover - reported below
                    errors.append(exc)

            writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
            for writer in writers:
                writer.start()
            for writer in writers:
                writer.join()
            assert not errors
            runner.wait(app.recorder.max_notification_id(), timeout=30)
            # The hub's session goes away: it reconnects and wakes every runner again.
            with psycopg.connect(own_database, autocommit=True) as conn:
                ended = conn.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = %s AND datname = current_database()",
                    (HUB_APPLICATION_NAME,),
                ).fetchone()
            assert ended is not None
            assert ended[0] == 1
            made += _register(app, business, ["After 1", "After 2"])
            runner.wait(app.recorder.max_notification_id(), timeout=30)
        assert {i: v for i, (v, _) in _rows(own_database).items()} == dict.fromkeys(made, 1)


def test_a_runner_announces_a_position_only_once_its_rows_are_readable(
    own_database: str, hub: NotifyHub
) -> None:
    board = AppliedBoard()
    seen: list[tuple[int, int]] = []  # (announced position, rm_clients rows on another session)

    def on_announced() -> None:
        # Runs in the runner's thread, right at the announcement.
        with psycopg.connect(own_database) as conn:
            row = conn.execute("SELECT count(*) FROM rm_clients").fetchone()
        seen.append((board.positions()["clients"], row[0] if row else 0))

    board.listen(on_announced)
    with invoicing_on(own_database) as app:
        business = _business(app)
        with _runner(own_database, app, hub, board) as runner:
            positions = [
                app.register_client(business, {"name": f"C{i}"}).position for i in range(5)
            ]
            runner.wait(app.recorder.max_notification_id(), timeout=30)
    assert board.positions()["clients"] == max(p or 0 for p in positions)
    assert seen
    for announced, rows in seen:
        assert rows >= sum(1 for p in positions if p is not None and p <= announced)


async def test_the_wait_ends_on_an_announcement_not_on_a_tracking_row_read(
    database_url: str,
) -> None:
    """A runner here covers the model: the tracking rows are read rarely (an hour here), and
    the waiter is answered when the runner announces; a lower position does not answer it."""
    board = AppliedBoard()
    board.started("clients")
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        watcher = PositionWatcher(pool, [CLIENTS], board=board, covered_interval=3600)
        beyond = 10**12  # no tracking row reaches it: only the board can answer
        waiting = asyncio.create_task(watcher.wait([(beyond, CLIENT_CREATED)], timeout=30))
        await asyncio.sleep(0.05)
        threading.Thread(target=board.announce, args=("clients", beyond - 1)).start()
        await asyncio.sleep(0.05)
        assert not waiting.done()
        threading.Thread(target=board.announce, args=("clients", beyond)).start()
        assert await asyncio.wait_for(waiting, timeout=10) is True
        # Already announced: answered at once, from memory.
        assert await watcher.wait([(beyond, CLIENT_CREATED)], timeout=0.001) is True
        # Another model, no runner of it here: its tracking row decides (never reached).
        invoices = read_model("invoices")
        other = PositionWatcher(pool, [CLIENTS, invoices], board=board, covered_interval=3600)
        assert await other.wait([(beyond, invoices.topics[0])], timeout=0.05) is False
    finally:
        await pool.close()


def test_a_lost_claim_rolls_back_the_rows_sent_with_it(own_database: str) -> None:
    """The single-event apply sends its rows before it reads whether its claim on the tracking
    row held (one round trip): when the tracking row is already past the event (a catch-up or
    a rebuild applied it), none of those rows may stay."""
    with invoicing_on(own_database) as app:
        business = _business(app)
        registered = app.register_client(business, {"name": "Claimed elsewhere"})
        events = event_reader(app)
        with psycopg.connect(own_database, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO clients_tracking (application_name, notification_id)"
                " VALUES ('Invoicing', %s)",
                ((registered.position or 0) + 1,),
            )
        env = ConnectionParams.from_url(own_database).eventsourcing_env(pool_size=1, max_overflow=0)
        factory = TunedPostgresFactory(Environment(CLIENTS.name, env))
        try:
            view = ReadModelView(factory.datastore, model=CLIENTS, folder=Folder(events.load, 10))
            first = events.notifications(0, 10, CLIENTS.topics)[0]
            view.apply(events.decode(first), Tracking("Invoicing", first.id))
            assert _rows(own_database) == {}
            # The aborted transaction left its (only) connection usable: a later event applies,
            # rows and tracking row. (The tracking row is one past the first event: the next
            # is claimed too.)
            app.register_client(business, {"name": "Claimed elsewhere too"})
            later = app.register_client(business, {"name": "Applied here"})
            following = events.notifications(first.id, 10, CLIENTS.topics)[-1]
            assert following.id == later.position
            view.apply(events.decode(following), Tracking("Invoicing", following.id))
        finally:
            factory.close()
    assert list(_rows(own_database).values()) == [(1, "Applied here")]
    assert _applied(own_database) == later.position


def test_a_caught_up_runner_applies_an_event_in_one_round_trip(own_database: str) -> None:
    """libpq's trace of the apply's connection: BEGIN, the claim, the rows and COMMIT go out
    with one Sync, so in one round trip (the claim's answer is not read before COMMIT)."""
    with invoicing_on(own_database) as app:
        business = _business(app)
        app.register_client(business, {"name": "Traced"})
        events = event_reader(app)
        env = ConnectionParams.from_url(own_database).eventsourcing_env(pool_size=1, max_overflow=0)
        factory = TunedPostgresFactory(Environment(CLIENTS.name, env))
        try:
            view = ReadModelView(factory.datastore, model=CLIENTS, folder=Folder(events.load, 10))
            first = events.notifications(0, 10, CLIENTS.topics)[0]
            with tempfile.TemporaryDirectory() as folder:
                trace_path = Path(folder) / "libpq.trace"
                with trace_path.open("w") as trace:
                    with factory.datastore.get_connection() as conn:
                        conn.pgconn.trace(trace.fileno())
                    try:
                        view.apply(events.decode(first), Tracking("Invoicing", first.id))
                    finally:
                        with factory.datastore.get_connection() as conn:
                            conn.pgconn.untrace()
                sent = trace_path.read_text()
        finally:
            factory.close()
    assert "read_model_claimed" in sent
    assert len(re.findall(r"^(?:\S+ \S+\t)?F\t\d+\tSync$", sent, flags=re.MULTILINE)) == 1, sent
    assert list(_rows(own_database).values()) == [(1, "Traced")]
    assert _applied(own_database) == first.id


class _DeafHub(NotifyHub):
    """A hub that never hears the store's NOTIFY: only `appended` wakes its runners."""

    def _listen(self) -> None:
        self._stopping.wait()


def _applied(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT notification_id FROM clients_tracking WHERE application_name = 'Invoicing'"
        ).fetchone()
    return int(row[0]) if row else 0


def test_an_append_made_here_wakes_its_runner_without_waiting_for_its_notify(
    own_database: str,
) -> None:
    """The API tells the hub what its command appended (Services.appended): the runner pulls
    at once, from its own position, without the round trip of the NOTIFY and the hub's read."""
    deaf = _DeafHub(own_database)
    try:
        with invoicing_on(own_database) as app:
            business = _business(app)
            before = app.register_client(business, {"name": "Before"})
            with _runner(own_database, app, deaf) as runner:
                runner.wait(before.position, timeout=30)  # the subscription's first pull
                later = app.register_client(business, {"name": "Later"})
                assert later.position is not None
                # Nothing wakes the runner: the store's NOTIFY goes unheard here.
                threading.Event().wait(0.3)
                assert _applied(own_database) < later.position
                deaf.appended(later.recorded)
                runner.wait(later.position, timeout=30)
        assert _applied(own_database) == later.position
        assert sorted(v for v, _ in _rows(own_database).values()) == [1, 1]
    finally:
        deaf.stop()


class _Woken:
    def __init__(self, topics: set[str]) -> None:
        self.topics = topics
        self.wakes = 0

    def concerns(self, topics: set[str]) -> bool:
        return not self.topics.isdisjoint(topics)

    def wake(self) -> None:
        self.wakes += 1


def test_the_hub_does_not_wake_again_for_what_was_appended_here() -> None:
    """`appended` wakes the subscriptions its topics concern; the hub's later read of those
    ids wakes nobody for them, but does for every other id (no wake-up lost)."""
    hub = NotifyHub("postgresql://127.0.0.1:1/never-connected")  # no runner: never listens
    clients, invoices = _Woken({"C"}), _Woken({"I"})
    hub._subscriptions += [clients, invoices]  # type: ignore[list-item]
    hub.appended([(7, "C")])
    assert (clients.wakes, invoices.wakes) == (1, 0)
    assert hub._to_wake([(6, "I"), (7, "C")]) == {"I"}
    assert hub._to_wake([(8, "C")]) == {"C"}  # appended elsewhere
    hub.appended([(8, "C")])  # told after the hub read it: nothing left to skip
    assert hub._to_wake([(9, "C")]) == {"C"}
    assert hub._woken_here == set()
