"""`audit verify --processes N`: the businesses split across processes that read one snapshot
(adapters/chain_verify.py). Reuses test_event_chain's databases and helpers."""

from __future__ import annotations

import json
import threading
import uuid
from uuid import UUID

import psycopg

from fastfaktura.adapters.chain_verify import HIGHEST, LOWEST, split
from fastfaktura.adapters.event_chain import parse_anchors
from fastfaktura.application import Invoicing
from tests.operations.test_event_chain import (  # noqa: F401 (fixtures)
    aggregates,
    app,
    chain_url,
    events_of,
    populate,
    tamper,
    verify,
)


def test_the_shares_cover_every_id_and_balance_the_events() -> None:
    ids = sorted(uuid.uuid4() for _ in range(10))
    shares = split([(b, 100) for b in ids], 2)
    assert shares == [(LOWEST, ids[4]), (UUID(int=ids[4].int + 1), HIGHEST)]
    uneven = split([(ids[0], 900), *((b, 10) for b in ids[1:])], 3)
    assert [sum(lo <= b <= hi for b in ids) for lo, hi in uneven] == [1, 5, 4]
    assert split([(ids[0], 5)], 4) == [(LOWEST, HIGHEST)]
    assert split([], 2) == [(LOWEST, HIGHEST)]


def test_a_break_in_a_business_checked_by_a_worker_process_is_named(
    app: Invoicing,  # noqa: F811
    chain_url: str,  # noqa: F811
) -> None:
    first, second = sorted(populate(app))  # the second share: the higher id, another process
    client = aggregates(chain_url, second, "fastfaktura:Client.Created")[0]
    (_, state) = events_of(chain_url, client)[1]
    tamper(
        chain_url,
        "UPDATE invoicing_events SET state = %s WHERE originator_id = %s"
        " AND originator_version = 2",
        (state.replace(b"renamed", b"RENAMED"), client),
    )
    result = verify(chain_url, "--processes", "2")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"business {second}: event #" in result.stdout
    assert f"aggregate {client} version 2) does not match its link" in result.stdout
    assert f"business {first}" not in result.stdout
    assert "1 broken chain(s)" in result.stdout


def test_every_process_reads_the_same_moment_while_writers_go_on(
    app: Invoicing,  # noqa: F811
    chain_url: str,  # noqa: F811
) -> None:
    """A writer adds one event to each of two businesses per transaction during the whole
    verification: heads read at one moment always count as many of its events in both."""
    businesses = sorted(populate(app))
    with psycopg.connect(chain_url) as conn:
        before = dict(
            conn.execute("SELECT chain_business, count(*) FROM invoicing_events GROUP BY 1")
        )
    stop = threading.Event()
    written = threading.Semaphore(0)

    def write() -> None:
        with psycopg.connect(chain_url, autocommit=True) as conn:
            while not stop.is_set():
                with conn.transaction():
                    for business in businesses:  # each joins its business's chain
                        state = json.dumps({"business_id": str(business)}).encode()
                        conn.execute(
                            "INSERT INTO invoicing_events"
                            " (originator_id, originator_version, topic, state)"
                            " VALUES (%s, 1, 'test:Written', %s)",
                            (uuid.uuid4(), state),
                        )
                written.release()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        for _ in range(5):
            assert written.acquire(timeout=30)
        result = verify(chain_url, "--processes", "2", "--anchor")
    finally:
        stop.set()
        writer.join()
    assert result.returncode == 0, result.stdout + result.stderr
    heads = {b: found[0].events for b, found in parse_anchors(result.stdout).items()}
    added = [heads[b] - before[b] for b in businesses]
    assert added[0] >= 5
    assert added[0] == added[1], added
