"""Measures the event feed's business index (migration 0014) on a store with many events:
`python -m tests.bench.feed_index [--events N]` (default 1,000,000; own embedded PostgreSQL).

- the cost of the trigger on the write path: saves/s of `register_client` through the
  application (1 thread), with the trigger and with it disabled, alternating;
- the cost on a bulk COPY of N stamped Client.Created events of 10 businesses;
- GET /events's query for one business (N/10 events), from the start and from deep in its
  feed, limit 100 and 500, and the worker's fan-out page (all businesses, 500).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from tests.bench.environment import private_runtime_dir

private_runtime_dir()  # before anything imports pgserver

from fastfaktura.adapters.database import ConnectionParams, migrate, start_embedded  # noqa: E402
from fastfaktura.application import Invoicing  # noqa: E402
from fastfaktura.readmodels.feed import FEED_TOPICS  # noqa: E402
from fastfaktura.readmodels.sql import local_statement  # noqa: E402

FEED_SQL = str(Path(__file__).resolve().parents[2] / "src/fastfaktura/readmodels/feed.py")


def _named(name: str, **params: str) -> str:
    """A statement of readmodels/feed.sql with psycopg's named parameters for $1, $2, ..."""
    query = local_statement(FEED_SQL, "feed.sql", name)
    for number, param in params.items():
        query = query.replace(number.replace("p", "$"), f"%({param})s")
    return query


def median_ms(conn: psycopg.Connection[Any], query: str, params: dict[str, Any]) -> float:
    times = []
    for _ in range(30):
        started = time.perf_counter()
        conn.execute(query, params).fetchall()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def saves_per_second(app: Invoicing, business: uuid.UUID, n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        app.register_client(business, {"name": f"Bench {i}"})
    return n / (time.perf_counter() - started)


APPEND = (
    "INSERT INTO invoicing_events (originator_id, originator_version, topic, state)"
    " VALUES (%s, %s, %s, %s)"
)


def append_us(url: str, state: bytes, rounds: int = 300) -> float:
    """One append as the library makes it (its own transaction, LOCK TABLE, NOTIFY, INSERT):
    a stream's first event (the trigger parses it) and a second one (owner looked up), by
    turns; the median time of one append, in microseconds."""
    times = []
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(rounds):
            stream = uuid.uuid4()
            for version, topic in (
                (1, "fastfaktura:Client.Created"),
                (2, "fastfaktura:Client.Archived"),
            ):
                started = time.perf_counter()
                with conn.transaction():
                    conn.execute("LOCK TABLE invoicing_events IN EXCLUSIVE MODE")
                    conn.execute("NOTIFY invoicing_events")
                    conn.execute(APPEND, (stream, version, topic, state))
                times.append(time.perf_counter() - started)
    return statistics.median(times) * 1_000_000


def trigger(url: str, enabled: bool) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        state = "ENABLE" if enabled else "DISABLE"
        conn.execute(f"ALTER TABLE invoicing_events {state} TRIGGER invoicing_events_owners")


def copy_stamped(url: str, template: bytes, businesses: list[uuid.UUID], n: int) -> float:
    """n copies of a Client.Created state, round-robin over the businesses."""
    marker = businesses[0].hex.encode()
    states = [template.replace(marker, b.hex.encode()) for b in businesses]
    started = time.perf_counter()
    with (
        psycopg.connect(url) as conn,
        conn.cursor() as cursor,
        cursor.copy(
            "COPY invoicing_events (originator_id, originator_version, topic, state) FROM STDIN"
        ) as copy,
    ):
        for i in range(n):
            copy.write_row((uuid.uuid4(), 1, "fastfaktura:Client.Created", states[i % len(states)]))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--saves", type=int, default=1500)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="ff-feed-bench-"))
    home.chmod(0o755)
    url = start_embedded(home)
    migrate(url)
    env = ConnectionParams.from_url(url).eventsourcing_env(pool_size=2, max_overflow=2)
    app = Invoicing(env)
    businesses = [app.register_business(f"B{i}", "sandbox").value.business_id for i in range(10)]
    app.register_client(businesses[0], {"name": "Template"})

    with_trigger, without = [], []
    for _ in range(3):
        with_trigger.append(saves_per_second(app, businesses[1], args.saves))
        trigger(url, False)
        without.append(saves_per_second(app, businesses[1], args.saves))
        trigger(url, True)
    print(
        f"register_client saves/s, 1 thread: with trigger {statistics.median(with_trigger):.0f},"
        f" without {statistics.median(without):.0f}"
        f" (runs {[round(r) for r in with_trigger]} / {[round(r) for r in without]})"
    )

    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT state FROM invoicing_events WHERE topic = 'fastfaktura:Client.Created'"
            " ORDER BY notification_id LIMIT 1"
        ).fetchone()
    assert row is not None
    template = bytes(row[0])
    on, off = [], []
    for _ in range(5):  # by turns, so that the machine's load weighs on both alike
        on.append(append_us(url, template))
        trigger(url, False)
        off.append(append_us(url, template))
        trigger(url, True)
    print(
        f"one append (lock, notify, insert, commit), median: with trigger"
        f" {statistics.median(on):.0f} us, without {statistics.median(off):.0f} us"
        f" (rounds {[round(v) for v in on]} / {[round(v) for v in off]})"
    )
    small = max(args.events // 10, 1000)
    trigger(url, False)
    copy_off = copy_stamped(url, template, businesses, small)
    trigger(url, True)
    copy_on = copy_stamped(url, template, businesses, small)
    rest = copy_stamped(url, template, businesses, args.events - 2 * small)
    print(
        f"COPY of {small:,} events: with trigger {copy_on:.1f} s, without {copy_off:.1f} s;"
        f" then {args.events - 2 * small:,} more in {rest:.1f} s"
    )

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
        total = conn.execute("SELECT count(*) FROM invoicing_events").fetchone()
        mine = conn.execute(
            "SELECT count(*), max(notification_id), percentile_disc(0.9) WITHIN GROUP"
            " (ORDER BY notification_id) FROM business_events WHERE business_id = %s",
            (businesses[3],),
        ).fetchone()
        assert total is not None
        assert mine is not None
        print(f"store: {total[0]:,} events; business 3 has {mine[0]:,} indexed")
        page_q = _named("business_page", p1="b", p2="a", p3="t", p4="l")
        fan_q = _named("all_businesses_page", p1="a", p2="t", p3="l")
        topics = list(FEED_TOPICS)
        for limit in (100, 500):
            for label, after in (("start", 0), ("deep (90 %)", mine[2])):
                params = {"b": businesses[3], "a": after, "t": topics, "l": limit}
                print(f"feed page limit {limit}, {label}: {median_ms(conn, page_q, params):.2f} ms")
        params = {"a": total[0] // 2, "t": topics, "l": 500}
        print(f"fan-out page of 500 (all businesses): {median_ms(conn, fan_q, params):.2f} ms")
        params = {"b": businesses[3], "a": 0, "t": topics, "l": 100}
        plan = conn.execute("EXPLAIN " + page_q, params).fetchall()
        print("\n".join(r[0] for r in plan))
    app.close()


if __name__ == "__main__":
    main()
