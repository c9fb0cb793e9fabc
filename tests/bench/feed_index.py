"""Measures the event feed's queries on a store with many events:
`python -m tests.bench.feed_index [--events N]` (default 1,000,000; own embedded PostgreSQL).

An event's business is `invoicing_events.chain_business` (the one owner rule, migration 0020;
the chain's trigger writes it, and its cost on the write path is measured by tests/bench/chain.py).
Measured here: GET /events's query for one business (N/10 events), from the start and from deep
in its feed, limit 100 and 500; the same for a business with 4 events, all at the end of the
store (the case a walk of the store's key would make slow); the worker's fan-out page (all
businesses, 500); and the plan of a page.
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
    """30 runs: psycopg prepares the statement after 5, as asyncpg does, so the generic plan
    PostgreSQL may then choose is measured too."""
    times = []
    for _ in range(30):
        started = time.perf_counter()
        conn.execute(query, params).fetchall()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


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
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="ff-feed-bench-"))
    home.chmod(0o755)
    url = start_embedded(home)
    migrate(url)
    env = ConnectionParams.from_url(url).eventsourcing_env(pool_size=2, max_overflow=2)
    app = Invoicing(env)
    businesses = [app.register_business(f"B{i}", "sandbox").value.business_id for i in range(10)]
    app.register_client(businesses[0], {"name": "Template"})
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT state FROM invoicing_events WHERE topic = 'fastfaktura:Client.Created'"
            " ORDER BY notification_id LIMIT 1"
        ).fetchone()
    assert row is not None
    copied = copy_stamped(url, bytes(row[0]), businesses, args.events)
    print(f"COPY of {args.events:,} events (chained by the trigger): {copied:.1f} s")
    late = app.register_business("Late", "sandbox").value.business_id
    for i in range(3):
        app.register_client(late, {"name": f"Late {i}"})

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
        total = conn.execute("SELECT count(*) FROM invoicing_events").fetchone()
        mine = conn.execute(
            "SELECT count(*), percentile_disc(0.9) WITHIN GROUP (ORDER BY notification_id)"
            " FROM invoicing_events WHERE chain_business = %s",
            (businesses[3],),
        ).fetchone()
        assert total is not None
        assert mine is not None
        print(f"store: {total[0]:,} events; business 3 has {mine[0]:,}")
        page_q = _named("business_page", p1="b", p2="a", p3="t", p4="l")
        fan_q = _named("all_businesses_page", p1="a", p2="t", p3="l")
        topics = list(FEED_TOPICS)
        for limit in (100, 500):
            for label, after in (("start", 0), ("deep (90 %)", mine[1])):
                params = {"b": businesses[3], "a": after, "t": topics, "l": limit}
                print(f"feed page limit {limit}, {label}: {median_ms(conn, page_q, params):.2f} ms")
        params = {"b": late, "a": 0, "t": topics, "l": 100}
        print(f"feed page of a business with 4 events: {median_ms(conn, page_q, params):.2f} ms")
        params = {"a": total[0] // 2, "t": topics, "l": 500}
        print(f"fan-out page of 500 (all businesses): {median_ms(conn, fan_q, params):.2f} ms")
        params = {"b": businesses[3], "a": 0, "t": topics, "l": 100}
        plan = conn.execute("EXPLAIN " + page_q, params).fetchall()
        print("\n".join(r[0] for r in plan))
    app.close()


if __name__ == "__main__":
    main()
