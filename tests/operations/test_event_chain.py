"""The hash chain per business (issue 18): written by PostgreSQL with each event, checked by
`fastfaktura audit verify`, run as the installed command. Each test has a database of its own:
they tamper with it."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.types.composite import CompositeInfo, register_composite

from fastfaktura.adapters.database import migrate, migration_files
from fastfaktura.adapters.event_chain import genesis, link, parse_anchors
from fastfaktura.application import Invoicing
from fastfaktura.domain.pricing import InvoiceLine
from tests.conftest import invoicing_on
from tests.helpers import drop_database, fresh_database, run_cli

LINES = [InvoiceLine("Consulting", Decimal("1"), 10000, Decimal("20"))]


@pytest.fixture
def chain_url(database_url: str) -> Iterator[str]:
    url = fresh_database(database_url, "chain")
    yield url
    drop_database(database_url, url)


@pytest.fixture
def app(chain_url: str) -> Iterator[Invoicing]:
    with invoicing_on(chain_url, pool_size=4, max_overflow=8) as application:
        yield application


def populate(app: Invoicing, businesses: int = 2) -> list[UUID]:
    """Businesses, each with a client changed twice (versions 1-3), two invoices, the first
    sent and credited (a credit note: an aggregate the chain has no code for)."""
    made = []
    for n in range(businesses):
        business = app.register_business(f"Chain {n}", "sandbox").value.business_id
        client = app.register_client(business, {"name": f"Buyer {n}", "email": "b@example.com"})
        client_id = client.value.id
        app.change_client(business, client_id, {"name": f"Buyer {n} renamed"})
        app.change_client(business, client_id, {"name": f"Buyer {n} renamed again"})
        invoices = [
            app.create_invoice(business, client_id=client_id, currency="EUR", lines=LINES).value
            for _ in range(2)
        ]
        app.send_invoice(business, invoices[0].id, ["link"])
        app.issue_credit_note(business, invoices[0].id, reason="Returned")
        made.append(business)
    return made


def verify(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(url, "audit", "verify", *args)


def tamper(url: str, statement: str, params: tuple[Any, ...] = ()) -> None:
    """Change the store as someone with database access would: past the append-only trigger
    (and the chain's, which would otherwise extend the chain for an inserted row)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        result = conn.execute(statement, params)
        assert result.rowcount != 0, statement  # -1: a DO block


def events_of(url: str, aggregate: UUID) -> list[tuple[int, bytes]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT originator_version, state FROM invoicing_events"
            " WHERE originator_id = %s ORDER BY originator_version",
            (aggregate,),
        ).fetchall()
    return [(int(v), bytes(s)) for v, s in rows]


def aggregates(url: str, business: UUID, topic: str) -> list[UUID]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT originator_id FROM invoicing_events WHERE chain_business = %s AND topic = %s"
            " ORDER BY chain_position",
            (business, topic),
        ).fetchall()
    return [row[0] for row in rows]


def test_every_aggregate_joins_its_business_chain_and_verify_passes(
    app: Invoicing, chain_url: str
) -> None:
    businesses = populate(app)
    with psycopg.connect(chain_url) as conn:
        unlinked = conn.execute(
            "SELECT count(*) FROM invoicing_events WHERE NOT chain_business = ANY(%s)",
            (businesses,),
        ).fetchone()
        counts = dict(
            conn.execute(
                "SELECT chain_business, count(*) FROM invoicing_events GROUP BY 1"
            ).fetchall()
        )
        positions = conn.execute(
            "SELECT chain_business, array_agg(chain_position ORDER BY notification_id)"
            " FROM invoicing_events GROUP BY 1"
        ).fetchall()
    # The business, its key, client, invoices, credit note and numbering series: all on its
    # chain.
    assert unlinked == (0,)
    with psycopg.connect(chain_url) as conn:
        credit_notes = conn.execute(
            "SELECT chain_business FROM invoicing_events WHERE topic LIKE %s",
            ("fastfaktura:CreditNote.%",),
        ).fetchall()
    assert sorted(row[0] for row in credit_notes) == sorted(businesses)
    for _, chain in positions:
        assert chain == list(range(1, len(chain) + 1))

    result = verify(chain_url, "--anchor")
    assert result.returncode == 0, result.stdout + result.stderr
    anchors = parse_anchors(result.stdout)
    assert set(anchors) == set(businesses)
    for business, [anchor] in anchors.items():
        assert anchor.events == counts[business]
    assert "Every chain is valid" in result.stderr

    one = verify(chain_url, "--business", str(businesses[0]))
    assert one.returncode == 0, one.stdout + one.stderr
    assert f"{counts[businesses[0]]} events of 1 business" in one.stdout


def test_the_database_and_the_verifier_compute_the_same_links(chain_url: str) -> None:
    originator, business = uuid4(), uuid4()
    cases = [("fastfaktura:Invoice.Created", b'{"a": 1}'), ("Café:Ünïcode", b""), ("", b"\x00")]
    with psycopg.connect(chain_url) as conn:
        for version, (topic, state) in enumerate(cases, start=1):
            row = conn.execute(
                "SELECT event_chain_link(event_chain_genesis(%s), %s, %s, %s, %s)",
                (business, originator, version, topic, state),
            ).fetchone()
            assert row is not None
            assert bytes(row[0]) == link(genesis(business), originator, version, topic, state)


@pytest.mark.parametrize(
    ("state", "owner"),
    [
        # as this app writes a created event (the fast path)
        (
            b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-01-01T00:00:00+00:00"},'
            b'"originator_topic":"x:Y","business_id":{"_type_":"uuid_hex","_data_":"%s"},"a":1}',
            "named",
        ),
        # other JSON: parsed
        (b'{"a": [1, {"b": 2}], "business_id": {"_type_": "uuid_hex", "_data_": "%s"}}', "named"),
        (b'{"business_id": "%s", "name": "Caf\xc3\xa9"}', "named"),
        # a business_id that is not the top-level one, or none, or not JSON: the aggregate
        (
            b'{"timestamp":{"_type_":"datetime_iso","_data_":"x"},"originator_topic":"x:Y",'
            b'"seller":{"business_id":{"_type_":"uuid_hex","_data_":"%s"}}}',
            "aggregate",
        ),
        (b'{"name": "no business %s"}', "aggregate"),
        (b"\xff\xfe not json %s", "aggregate"),
    ],
)
def test_the_owner_of_an_aggregate_is_the_business_its_first_event_names(
    chain_url: str, state: bytes, owner: str
) -> None:
    business, aggregate = uuid4(), uuid4()
    with psycopg.connect(chain_url) as conn:
        row = conn.execute(
            "SELECT event_chain_owner(%s, %s)", (aggregate, state % business.hex.encode())
        ).fetchone()
    assert row == ((business if owner == "named" else aggregate),)


def test_later_versions_join_the_business_of_version_1_even_in_the_same_statement(
    chain_url: str,
) -> None:
    business, aggregate = uuid4(), uuid4()
    named = f'{{"business_id": {{"_type_": "uuid_hex", "_data_": "{business.hex}"}}}}'
    with psycopg.connect(chain_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO invoicing_events (originator_id, originator_version, topic, state)"
            " VALUES (%s, 1, 'x:Made', %s), (%s, 2, 'x:Changed', '{}'), (%s, 3, 'x:Changed', '{}')",
            (aggregate, named.encode(), aggregate, aggregate),
        )
        rows = conn.execute(
            "SELECT originator_version, chain_business, chain_position FROM invoicing_events"
            " WHERE originator_id = %s ORDER BY 1",
            (aggregate,),
        ).fetchall()
    assert rows == [(1, business, 1), (2, business, 2), (3, business, 3)]


def test_the_apps_append_and_other_writers_extend_the_same_chains(chain_url: str) -> None:
    """The app's append (invoicing_events_append: table lock, then the INSERT) and a writer
    without the table lock, interleaved on one business, make one chain; a later version
    appended together with its version 1 joins the business that version 1 names (the trigger
    reads the row inserted before it in the same statement)."""
    business, first, second, other = uuid4(), uuid4(), uuid4(), uuid4()
    named = f'{{"business_id": {{"_type_": "uuid_hex", "_data_": "{business.hex}"}}}}'.encode()
    with psycopg.connect(chain_url, autocommit=True) as conn:
        info = CompositeInfo.fetch(conn, "stored_event_uuid")
        assert info is not None
        register_composite(info, conn)
        event = info.python_type
        assert event is not None

        def append(*events: Any) -> None:
            conn.execute(
                "SELECT invoicing_events_append(%s::stored_event_uuid[], '0s')", (list(events),)
            )

        append(event(first, 1, "x:Made", named), event(first, 2, "x:Changed", b"{}"))
        conn.execute(
            "INSERT INTO invoicing_events (originator_id, originator_version, topic, state)"
            " VALUES (%s, 1, 'x:Made', %s)",
            (second, named),
        )
        append(event(first, 3, "x:Changed", b"{}"), event(other, 1, "x:Made", b"{}"))
        rows = conn.execute(
            "SELECT originator_id, originator_version, chain_business, chain_position"
            " FROM invoicing_events ORDER BY notification_id"
        ).fetchall()
    assert rows == [
        (first, 1, business, 1),
        (first, 2, business, 2),
        (second, 1, business, 3),
        (first, 3, business, 4),
        (other, 1, other, 1),  # names no business: its own chain
    ]
    assert verify(chain_url).returncode == 0


def test_an_edited_state_is_named(app: Invoicing, chain_url: str) -> None:
    business = populate(app)[0]
    client = aggregates(chain_url, business, "fastfaktura:Client.Created")[0]
    (_, state) = events_of(chain_url, client)[1]
    tamper(
        chain_url,
        "UPDATE invoicing_events SET state = %s WHERE originator_id = %s"
        " AND originator_version = 2",
        (state.replace(b"renamed", b"RENAMED"), client),
    )
    result = verify(chain_url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"aggregate {client} version 2" in result.stdout
    assert "does not match its link" in result.stdout
    assert f"business {business}" in result.stdout
    # The other business's chain is untouched and still verifies alone.
    other = populate(app, 1)[0]
    assert verify(chain_url, "--business", str(other)).returncode == 0


def test_a_deleted_event_is_named(app: Invoicing, chain_url: str) -> None:
    business = populate(app)[0]
    client = aggregates(chain_url, business, "fastfaktura:Client.Created")[0]
    tamper(
        chain_url,
        "DELETE FROM invoicing_events WHERE originator_id = %s AND originator_version = 2",
        (client,),
    )
    result = verify(chain_url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"aggregate {client} version 2" in result.stdout
    assert "is missing" in result.stdout


def test_two_swapped_states_are_named(app: Invoicing, chain_url: str) -> None:
    business = populate(app)[0]
    first, second = aggregates(chain_url, business, "fastfaktura:Invoice.Created")
    tamper(
        chain_url,
        "UPDATE invoicing_events e SET state = o.state FROM invoicing_events o"
        " WHERE e.originator_version = 1 AND o.originator_version = 1"
        " AND (e.originator_id, o.originator_id) IN ((%s, %s), (%s, %s))",
        (first, second, second, first),
    )
    result = verify(chain_url)
    assert result.returncode == 1, result.stdout + result.stderr
    # The first of the two in the chain is where it stops matching.
    assert f"aggregate {first} version 1" in result.stdout


def rechain(url: str, business: UUID) -> None:
    """What an operator with database access can do: recompute a whole chain after an edit."""
    b = f"'{business}'::uuid"  # a UUID object: safe to inline (DO takes no parameters)
    tamper(
        url,
        "DO $$ DECLARE e record; previous bytea := event_chain_genesis(" + b + "); BEGIN"
        " FOR e IN SELECT * FROM invoicing_events WHERE chain_business = " + b + ""
        "  ORDER BY chain_position LOOP"
        "  previous := event_chain_link(previous, e.originator_id, e.originator_version,"
        "   e.topic, e.state);"
        "  UPDATE invoicing_events SET chain_hash = previous WHERE originator_id ="
        "   e.originator_id AND originator_version = e.originator_version;"
        " END LOOP; END $$",
    )


def test_an_anchor_proves_a_rewritten_chain_changed_and_stays_valid_after_writes(
    app: Invoicing, chain_url: str, tmp_path: Path
) -> None:
    business = populate(app)[0]
    taken = verify(chain_url, "--anchor")
    assert taken.returncode == 0, taken.stderr
    anchors = tmp_path / "anchors.txt"
    anchors.write_text(taken.stdout)

    # More writes: the chain grows past the anchor, which still holds.
    client = aggregates(chain_url, business, "fastfaktura:Client.Created")[0]
    app.change_client(business, client, {"name": "After the anchor"})
    app.create_invoice(business, client_id=client, currency="EUR", lines=LINES)
    later = verify(chain_url, "--anchors", str(anchors))
    assert later.returncode == 0, later.stdout + later.stderr
    assert "2 anchor(s) checked" in later.stdout

    # An earlier event edited, and the whole chain recomputed by someone with database access:
    # the chain alone looks valid, the anchor does not.
    (_, state) = events_of(chain_url, client)[0]
    tamper(
        chain_url,
        "UPDATE invoicing_events SET state = %s WHERE originator_id = %s"
        " AND originator_version = 1",
        (state.replace(b"Buyer 0", b"Buyer X"), client),
    )
    rechain(chain_url, business)
    assert verify(chain_url).returncode == 0
    result = verify(chain_url, "--anchors", str(anchors))
    assert result.returncode == 1, result.stdout + result.stderr
    anchored = parse_anchors(taken.stdout)[business][0]
    assert f"event #{anchored.events}" in result.stdout
    assert "is not the anchored head" in result.stdout


def test_deleting_a_chains_last_event_is_found_by_an_anchor_only(
    app: Invoicing, chain_url: str, tmp_path: Path
) -> None:
    business = populate(app, 1)[0]
    (tmp_path / "a.txt").write_text(verify(chain_url, "--anchor").stdout)
    tamper(
        chain_url,
        "DELETE FROM invoicing_events WHERE chain_business = %s AND chain_position ="
        " (SELECT max(chain_position) FROM invoicing_events WHERE chain_business = %s)",
        (business, business),
    )
    # A shorter chain is still a chain (docs/audit.md: what is not proven) ...
    assert verify(chain_url).returncode == 0
    # ... but not the one anchored.
    result = verify(chain_url, "--anchors", str(tmp_path / "a.txt"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"business {business}" in result.stdout
    assert "an anchor counts" in result.stdout


def test_a_bad_anchor_file_is_refused_naming_the_line(chain_url: str, tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_text("# anchors\nnot-a-uuid 3 abc 2026-01-01T00:00:00Z\n")
    result = verify(chain_url, "--anchors", str(tmp_path / "bad.txt"))
    assert result.returncode != 0
    assert "line 2" in result.stderr


WRITER = """
import sys
from decimal import Decimal
from uuid import UUID
from fastfaktura.adapters.database import ConnectionParams
from fastfaktura.application import Invoicing
from fastfaktura.domain.pricing import InvoiceLine
url, business, client, count = sys.argv[1], UUID(sys.argv[2]), UUID(sys.argv[3]), int(sys.argv[4])
app = Invoicing(ConnectionParams.from_url(url).eventsourcing_env(pool_size=2, max_overflow=2))
line = [InvoiceLine("Burst", Decimal("1"), 500, Decimal("20"))]
for n in range(count):
    app.create_invoice(business, client_id=client, currency="EUR", lines=line)
    app.change_client(business, client, {"name": f"Renamed {n}"})
app.close()
"""


def test_a_concurrent_burst_across_businesses_keeps_every_chain_valid(
    app: Invoicing, chain_url: str
) -> None:
    businesses = [app.register_business(f"Burst {n}", "sandbox").value.business_id for n in "abc"]
    clients = {b: app.register_client(b, {"name": "Buyer"}).value.id for b in businesses}
    # Two more processes write through their own application, while threads here do too.
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, chain_url, str(b), str(clients[b]), "15"],
            env=os.environ,
        )
        for b in businesses[:2]
    ]
    failures: list[BaseException] = []

    def write(business: UUID, count: int) -> None:
        try:
            for _ in range(count):
                app.create_invoice(
                    business, client_id=clients[business], currency="EUR", lines=LINES
                )
                app.issue_api_key(business)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(b, 10)) for b in businesses for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [p.wait(timeout=120) for p in processes] == [0, 0]
    assert not failures, failures

    with psycopg.connect(chain_url) as conn:
        counts = dict(
            conn.execute(
                "SELECT chain_business, count(*) FROM invoicing_events GROUP BY 1"
            ).fetchall()
        )
    result = verify(chain_url, "--anchor")
    assert result.returncode == 0, result.stdout + result.stderr
    anchors = parse_anchors(result.stdout)
    assert {b: a[0].events for b, a in anchors.items()} == counts
    # business, key, client: 3; the series' creation: 1; the threads' 2 x 10 x (invoice,
    # number allocated, key); the processes' 15 x (invoice, number allocated, client change)
    assert counts[businesses[2]] == 3 + 1 + 2 * 10 * 3
    assert counts[businesses[0]] == 3 + 1 + 2 * 10 * 3 + 15 * 3


def test_writers_without_the_table_lock_still_chain_per_business(chain_url: str) -> None:
    """Other writers (not the app: no LOCK TABLE) appending concurrently to two businesses:
    the head row's lock orders each business's events, and every chain verifies."""
    businesses = [uuid4(), uuid4()]
    failures: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            with psycopg.connect(chain_url, autocommit=True) as conn:
                for n in range(40):
                    business = businesses[(worker + n) % 2]
                    state = (
                        f'{{"business_id": {{"_type_": "uuid_hex", "_data_": "{business.hex}"}}}}'
                    )
                    conn.execute(
                        "INSERT INTO invoicing_events (originator_id, originator_version, topic,"
                        " state) VALUES (%s, 1, 'other.writer:Made', %s)",
                        (uuid4(), state.encode()),
                    )
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    result = verify(chain_url, "--anchor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert {a[0].events for a in parse_anchors(result.stdout).values()} == {80}


def test_the_migration_chains_a_store_written_before_it(database_url: str) -> None:
    url = fresh_database(database_url, "prechain")
    try:
        # The store as it was before 0016: every earlier migration, recorded as migrate() does.
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
            conn.execute(
                "CREATE TABLE schema_migrations (name text PRIMARY KEY, checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            for path in migration_files():
                if path.name >= "0016":
                    continue
                sql = path.read_text()
                conn.execute(sql.encode())
                conn.execute(
                    "INSERT INTO schema_migrations (name, checksum) VALUES (%s, %s)",
                    (path.name, hashlib.sha256(sql.encode()).hexdigest()),
                )
        with invoicing_on(url) as old:
            businesses = populate(old)
        assert "0016_event_chain.sql" in migrate(url)
        result = verify(url, "--anchor")
        assert result.returncode == 0, result.stdout + result.stderr
        assert set(parse_anchors(result.stdout)) == set(businesses)
        with invoicing_on(url) as new:  # and appends after it extend the migrated chains
            populate(new, 1)
        assert verify(url).returncode == 0
    finally:
        drop_database(database_url, url)
