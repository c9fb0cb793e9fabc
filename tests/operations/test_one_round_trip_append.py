"""The event store's append in one round trip (adapters/event_store.py, migration 0030), and the
guarantees it must keep: notification-id order is commit order (a tailing reader never skips
an event), invoice numbers stay gapless, and the read models see every event, with writers in
two processes at once."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from fastfaktura.domain.business import Business
from fastfaktura.domain.client import Client
from fastfaktura.domain.invoice import InvoiceLine
from tests.conftest import Account, invoicing_on
from tests.invoicing_support import create_client

PER_PROCESS = 16  # invoices each of the two processes creates
THREADS = 4  # concurrent writers per process

# The other process: builds its own application, says "ready", waits for "go", then creates
# invoices from THREADS threads and prints their numbers as JSON.
WRITER = """
import json, sys
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from uuid import UUID
from fastfaktura.adapters.database import ConnectionParams
from fastfaktura.application import Invoicing
from fastfaktura.domain.invoice import InvoiceLine

url, business, buyer, count, threads = sys.argv[1:6]
app = Invoicing(ConnectionParams.from_url(url).eventsourcing_env(pool_size=4, max_overflow=4))
line = InvoiceLine("Other process", Decimal(1), 100, Decimal(0))

def create(_):
    return app.create_invoice(
        UUID(business), client_id=UUID(buyer), currency="EUR", lines=[line]
    ).value.number

print("ready", flush=True)
sys.stdin.readline()
with ThreadPoolExecutor(int(threads)) as pool:
    numbers = list(pool.map(create, range(int(count))))
print(json.dumps(numbers), flush=True)
app.close()
"""


def _sequence(number: str) -> int:
    match = re.fullmatch(r"[A-Za-z0-9_-]*\d{4}-(\d{5,})", number)
    assert match, number
    return int(match.group(1))


def test_an_append_is_one_round_trip(
    database_url: str, new_account: Callable[..., Account]
) -> None:
    """libpq's trace of the connection that appends: one Sync, so one round trip. The
    library's path sends two (the pipeline's, then COMMIT's), holding the table lock between
    them. (The first append of a connection also prepares its statement, as the library's.)"""
    account = new_account("One Trip SAS")
    with invoicing_on(database_url, pool_size=1, max_overflow=0) as app:
        locale = app.get(Business, account.business_id).profile["locale"]
        details = {"country": "FR", "locale": locale}
        app.save(Client.register(account.business_id, {"name": "Warm-up", **details}))
        client = Client.register(account.business_id, {"name": "Traced", **details})
        with tempfile.TemporaryDirectory() as folder:
            trace_path = Path(folder) / "libpq.trace"
            with trace_path.open("w") as trace:
                # The pool holds one connection: the append below runs on this one.
                with app.recorder.datastore.get_connection() as conn:  # type: ignore[attr-defined]
                    conn.pgconn.trace(trace.fileno())
                try:
                    recordings = app.save(client)
                finally:
                    with app.recorder.datastore.get_connection() as conn:  # type: ignore[attr-defined]
                        conn.pgconn.untrace()
            sent = trace_path.read_text()
    syncs = re.findall(r"^(?:\S+ \S+\t)?F\t\d+\tSync$", sent, flags=re.MULTILINE)
    assert len(syncs) == 1, sent
    assert "LOCK TABLE" not in sent  # inside the function, not sent by the client
    assert [r.notification.id for r in recordings] == sorted(r.notification.id for r in recordings)
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT chain_business, chain_position FROM invoicing_events"
            " WHERE originator_id = %s AND originator_version = 1",
            (client.id,),
        ).fetchone()
    assert row is not None
    assert row[0] == account.business_id  # the hash chain's trigger ran


def test_an_append_waits_until_an_earlier_uncommitted_append_commits(
    database_url: str, new_account: Callable[..., Account]
) -> None:
    """The ordering guarantee itself: while one append's transaction is open (it holds the
    table lock and drew its notification id), another append, of another business (another
    hash chain, so the chain's per-business lock plays no part), cannot draw an id nor commit.
    Without the table lock it would commit a higher id first, and a reader passing it would
    never see the earlier one."""
    early_business, late_business = new_account("Early SARL"), new_account("Late SARL")
    with invoicing_on(database_url) as app:
        locale = app.get(Business, early_business.business_id).profile["locale"]
        details = {"name": "Ordered", "country": "FR", "locale": locale}
        early = Client.register(early_business.business_id, details)
        late = Client.register(late_business.business_id, details)
        [stored] = [app.mapper.to_stored_event(e) for e in early.collect_events()]
        with psycopg.connect(database_url) as holder:  # not autocommit: the append stays open
            row = holder.execute(
                "SELECT * FROM invoicing_events_append("
                " ARRAY[ROW(%s, %s, %s, %s)::stored_event_uuid], '0s')",
                (stored.originator_id, stored.originator_version, stored.topic, stored.state),
            ).fetchone()
            assert row is not None
            early_id = int(row[0])
            saved: list[int] = []
            done = threading.Event()

            def save_late() -> None:
                saved.extend(r.notification.id for r in app.save(late))
                done.set()

            writer = threading.Thread(target=save_late)
            writer.start()
            assert not done.wait(1.0), "an append committed past an uncommitted earlier one"
            holder.commit()
        assert done.wait(30)
        writer.join()
    assert saved
    assert saved[0] > early_id


def _tail(database_url: str, after: int, stop: threading.Event, seen: list[int]) -> None:
    """Page the store by notification id as a live subscriber does ("after the last id I
    saw"), without pause, until stopped; then once more."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        last = after
        while True:
            stopping = stop.is_set()
            rows = conn.execute(
                "SELECT notification_id FROM invoicing_events WHERE notification_id > %s"
                " ORDER BY notification_id LIMIT 1000",
                (last,),
            ).fetchall()
            for (nid,) in rows:
                seen.append(nid)
                last = nid
            if stopping and not rows:
                return


async def test_writers_in_two_processes_keep_numbers_gapless_and_no_event_skipped(
    client: AsyncTestClient[Any],
    database_url: str,
    invoicing: Invoicing,
    new_account: Callable[..., Account],
) -> None:
    account = new_account("Two Processes GmbH")
    buyer = UUID((await create_client(client, account))["id"])
    with psycopg.connect(database_url) as conn:
        head = conn.execute("SELECT coalesce(max(notification_id), 0) FROM invoicing_events")
        start = int(head.fetchone()[0])  # type: ignore[index]

    other = subprocess.Popen(
        [
            sys.executable,
            "-c",
            WRITER,
            *(database_url, str(account.business_id), str(buyer), str(PER_PROCESS), str(THREADS)),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        assert other.stdout is not None
        assert other.stdin is not None
        assert other.stdout.readline().strip() == "ready"
        seen: list[int] = []
        stop = threading.Event()
        tailer = threading.Thread(target=_tail, args=(database_url, start, stop, seen))
        tailer.start()
        line = InvoiceLine("This process", Decimal(1), 100, Decimal(0))

        def create(_: int) -> str:
            written = invoicing.create_invoice(
                account.business_id, client_id=buyer, currency="EUR", lines=[line]
            )
            return written.value.number

        other.stdin.write("go\n")
        other.stdin.flush()
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(THREADS) as pool:
            mine = await asyncio.gather(
                *(loop.run_in_executor(pool, create, n) for n in range(PER_PROCESS))
            )
        theirs = json.loads(await loop.run_in_executor(None, other.stdout.readline))
        assert other.wait(timeout=60) == 0
        stop.set()
        tailer.join(timeout=60)
    finally:
        if other.poll() is None:
            other.kill()

    # Gapless: 1..2N, each once, across both processes.
    numbers = sorted(_sequence(n) for n in [*mine, *theirs])
    assert numbers == list(range(1, 2 * PER_PROCESS + 1))

    # No skip: the tailer, paging "after the last id seen" during the writes, saw every event
    # that was appended, each once, in order.
    with psycopg.connect(database_url) as conn:
        stored = [
            nid
            for (nid,) in conn.execute(
                "SELECT notification_id FROM invoicing_events WHERE notification_id > %s"
                " ORDER BY notification_id",
                (start,),
            )
        ]
    assert seen == stored
    assert len(stored) >= 2 * 2 * PER_PROCESS  # per invoice: Created + the series' allocation

    # The live read models applied every event: each invoice has its row with its number.
    deadline = time.monotonic() + 30
    while True:
        with psycopg.connect(database_url) as conn:
            rows = conn.execute(
                "SELECT number FROM rm_invoices WHERE business_id = %s", (account.business_id,)
            ).fetchall()
            tracked = conn.execute(
                "SELECT notification_id FROM invoices_tracking WHERE application_name = 'Invoicing'"
            ).fetchone()
        if (tracked and tracked[0] >= stored[-1]) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert sorted(_sequence(number) for (number,) in rows) == numbers


def test_the_recorders_reads_and_decoding_give_the_librarys_results(
    database_url: str, new_account: Callable[..., Account]
) -> None:
    """The recorder's reads (statements rendered once per shape, fewer columns) and its
    mapper (msgspec decoding) against the library's own, on the same events: every shape of
    call the library accepts gives the same notifications and stored events, and every event
    decodes to an equal one."""
    from eventsourcing.persistence import JSONTranscoder, Mapper
    from eventsourcing.postgres import PostgresApplicationRecorder

    from fastfaktura.adapters.event_decoding import MsgspecTranscoder
    from fastfaktura.adapters.event_store import OneRoundTripRecorder

    account = new_account("Same Reads SAS")
    with invoicing_on(database_url, pool_size=1, max_overflow=0) as app:
        locale = app.get(Business, account.business_id).profile["locale"]
        details = {"name": "Same Reads Buyer", "country": "FR", "locale": locale}
        buyer = Client.register(account.business_id, details)
        app.save(buyer)
        line = InvoiceLine("Reads", Decimal("2.5"), 1999, Decimal("20"))
        invoice = app.create_invoice(
            account.business_id, client_id=buyer.id, currency="EUR", lines=[line]
        ).value
        ours = app.recorder
        assert isinstance(ours, OneRoundTripRecorder)
        library = PostgresApplicationRecorder(ours.datastore, events_table_name="invoicing_events")
        head = ours.max_notification_id() or 0
        latest = ours.select_notifications(start=head - 3, limit=10)
        assert [n.id for n in latest] == list(range(head - 3, head + 1))
        topics = sorted({n.topic for n in latest})[:2]
        shapes: list[dict[str, Any]] = [
            {"start": None, "limit": 5},
            {"start": head - 3, "limit": 10},
            {"start": head - 3, "limit": 10, "inclusive_of_start": False},
            {"start": head - 3, "limit": 10, "stop": head - 1},
            {"start": None, "limit": 10, "stop": 3},
            {"start": 0, "limit": 100, "topics": topics, "inclusive_of_start": False},
            {"start": None, "limit": 100, "topics": tuple(topics)},
        ]
        for shape in shapes:
            assert ours.select_notifications(**shape) == library.select_notifications(**shape)

        for aggregate_id in (invoice.id, buyer.id, account.business_id):
            for query in (
                {},
                {"gt": 1},
                {"lte": 1},
                {"desc": True, "limit": 1},
                {"gt": 0, "lte": 5, "desc": True},
            ):
                stored = ours.select_events(aggregate_id, **query)
                assert stored == library.select_events(aggregate_id, **query)
            everything = ours.select_events(aggregate_id)
            assert everything
            assert isinstance(app.mapper.transcoder, MsgspecTranscoder)
            plain = JSONTranscoder()
            app.register_transcodings(plain)
            reference = Mapper(transcoder=plain)
            for event in everything:
                assert app.mapper.to_domain_event(event) == reference.to_domain_event(event)
