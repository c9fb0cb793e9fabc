"""`audit replay` at scale (issue 12): every model compared at one moment (one exported
snapshot), in worker processes, every difference still found whichever worker finds it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from uuid import UUID

import psycopg
from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from fastfaktura.event_reader import event_reader
from fastfaktura.readmodels.audit import compare_models
from fastfaktura.readmodels.models import READ_MODELS
from tests.conftest import Account
from tests.helpers import settle

EIGHTHS = 8  # 2 workers x 4 units per worker: the id space in eighths


def _clients(invoicing: Invoicing, account: Account, count: int) -> list[UUID]:
    return [
        invoicing.register_client(account.business_id, {"name": f"Snapshot {i}"}).value.id
        for i in range(count)
    ]


def _eighth(client_id: UUID) -> int:
    return (client_id.int * EIGHTHS) >> 128


async def test_differences_found_by_every_worker_and_a_change_during_the_audit_is_not_seen(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    """Its live projections (the session's app, `client`) keep the read models settled."""
    account = new_account("Snapshot Audit AB")
    ids = sorted(_clients(invoicing, account, 4))
    while _eighth(ids[0]) == _eighth(ids[-1]):  # the first and last in different units
        ids = sorted(ids + _clients(invoicing, account, 1))
    settle(database_url)
    first, last, later = ids[0], ids[-1], ids[1]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE rm_clients SET name = 'Tampered' WHERE id = %s", (first,))
        conn.execute("DELETE FROM rm_clients WHERE id = %s", (last,))

    def tamper_once(name: str, count: int, done: list[str] = []) -> None:  # noqa: B006
        # Called as the audit runs (its snapshot is taken): this change is after its moment.
        if not done:
            done.append(name)
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute("UPDATE rm_clients SET email = 'x@y.z' WHERE id = %s", (later,))

    reader = event_reader(invoicing)
    found = compare_models(
        reader,
        database_url,
        READ_MODELS,
        business_id=account.business_id,
        progress=tamper_once,
        workers=2,
        parallel_from_events=0,  # the small test store in worker processes too
    )
    # In id order, whichever worker found each; the change made meanwhile is not among them.
    assert [(d.table, d.key["id"], d.problem.split(" ")[0]) for d in found] == [
        ("rm_clients", str(first), "name"),
        ("rm_clients", str(last), "missing"),
    ]
    assert "'Tampered' in the read model" in found[0].problem
    # The next audit's moment has the change; in one process, the same differences.
    again = compare_models(reader, database_url, READ_MODELS, business_id=account.business_id)
    assert sorted(d.key["id"] for d in again) == sorted(map(str, (first, later, last)))


async def test_no_false_difference_while_writers_keep_going(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    """The live projections (the session's app, `client`) apply events as the audit runs.
    Events recorded while the audit runs (the live projections lagging behind them) are
    not compared: each model only up to the position its rows reflect in the snapshot."""
    account = new_account("Busy Audit Oy")
    _clients(invoicing, account, 3)
    settle(database_url)
    stop = threading.Event()
    written: list[Any] = []

    def write() -> None:
        while not stop.is_set() and len(written) < 200:
            written.append(_clients(invoicing, account, 1))

    writer = threading.Thread(target=write)
    writer.start()
    try:
        found = compare_models(
            event_reader(invoicing),
            database_url,
            READ_MODELS,
            business_id=account.business_id,
            workers=2,
            parallel_from_events=0,
        )
    finally:
        stop.set()
        writer.join()
    assert written, "nothing was written during the audit"
    assert found == []
