"""Live projections apply batches: a runner that is behind writes many events per transaction
(one tracking update each), and under concurrent writers and catch-ups every event lands in the
read model exactly once (none skipped, none applied again over a newer state)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse, urlunparse
from uuid import UUID

import psycopg
import pytest

from fastfaktura.adapters.database import ConnectionParams, migrate
from fastfaktura.application import Invoicing
from fastfaktura.domain.client import Client
from fastfaktura.event_reader import event_reader
from fastfaktura.readmodels.catchup import catch_up
from fastfaktura.readmodels.live import LiveRunner
from fastfaktura.readmodels.models import read_model
from tests.conftest import invoicing_on

CLIENTS = read_model("clients")


@pytest.fixture
def own_database(database_url: str) -> Iterator[str]:
    """A database of this test's own on the session's server: no other runner applies events
    to it (the session's API runs its runners on the session database)."""
    name = f"ff_batches_{secrets.token_hex(4)}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = urlunparse(urlparse(database_url)._replace(path="/" + name))
    migrate(url)
    yield url
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _runner(url: str, app: Invoicing) -> LiveRunner:
    env = ConnectionParams.from_url(url).eventsourcing_env(pool_size=1, max_overflow=0)
    return LiveRunner(CLIENTS, env, event_reader(app))


def _business(app: Invoicing) -> UUID:
    return app.register_business("Batch Test", "sandbox", country="FR").value.business_id


def _rows(url: str) -> dict[UUID, tuple[int, str]]:
    with psycopg.connect(url) as conn:
        return {
            r[0]: (r[1], r[2]) for r in conn.execute("SELECT id, version, name FROM rm_clients")
        }


def test_a_runner_behind_applies_many_events_per_transaction(own_database: str) -> None:
    with invoicing_on(own_database) as app:
        business = _business(app)
        ids = [app.register_client(business, {"name": f"C{i}"}).value.id for i in range(120)]
        head = app.recorder.max_notification_id()
        with _runner(own_database, app) as runner:
            runner.wait(head, timeout=60)
        with psycopg.connect(own_database) as conn:
            # xmin: the transaction that wrote each row. One per event before batches.
            transactions = conn.execute(
                "SELECT count(DISTINCT xmin::text) FROM rm_clients"
            ).fetchone()
        assert {i: v for i, (v, _) in _rows(own_database).items()} == dict.fromkeys(ids, 1)
        assert transactions is not None
        assert transactions[0] <= 120 // 10, transactions


def test_every_event_lands_exactly_once_under_concurrent_writers(own_database: str) -> None:
    with invoicing_on(own_database, pool_size=4, max_overflow=4) as app:
        business = _business(app)
        made: list[UUID] = []
        errors: list[BaseException] = []

        def write(worker: int) -> None:
            try:
                for i in range(25):
                    client = app.register_client(business, {"name": f"W{worker}-{i}"}).value
                    made.append(client.id)
                    app.change_client(business, client.id, {"name": f"W{worker}-{i} v2"})
            except BaseException as exc:  # reported below
                errors.append(exc)

        def catch_up_now_and_then(stop: threading.Event) -> None:
            # A competing writer of the same rows and tracking row (as the CLI is).
            while not stop.wait(0.05):
                catch_up(event_reader(app), own_database, CLIENTS, page_size=7)

        with _runner(own_database, app) as runner:
            stop = threading.Event()
            competitor = threading.Thread(target=catch_up_now_and_then, args=(stop,))
            competitor.start()
            writers = [threading.Thread(target=write, args=(w,)) for w in range(4)]
            for thread in writers:
                thread.start()
            for thread in writers:
                thread.join()
            stop.set()
            competitor.join()
            head = app.recorder.max_notification_id()
            runner.wait(head, timeout=60)
        assert not errors, errors
        rows = _rows(own_database)
        expected: dict[UUID, tuple[int, Any]] = {}
        for client_id in made:
            client = app.repository.get(client_id)
            assert isinstance(client, Client)
            expected[client_id] = (client.version, client.details["name"])
        assert len(made) == 100
        assert rows == expected
