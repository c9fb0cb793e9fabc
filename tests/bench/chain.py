"""The hash chain (issue 18, docs/audit.md): what it costs appends, and `audit verify`'s speed.

- chain_append: the app's append (`invoicing_events_append`, migration 0030: table lock,
  NOTIFY and INSERT in one statement, autocommit, as adapters/event_store.py sends it), N
  connections, into the real invoicing_events of a database of its own, with the chain trigger
  on and off (off: the trigger disabled and the chain columns' NOT NULL dropped, so no owner,
  position or link is computed), in alternating windows so that the table's growth and the
  machine's drift weigh on both alike. Each append writes what creating an invoice writes: a
  new aggregate (version 1, its business in its state) and the next version of a
  per-connection "series" aggregate (its business looked up from its version 1).
- store_verify: `fastfaktura audit verify` (the CLI, a subprocess) over the generated store,
  against reading the same columns of every event once.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from psycopg.types.composite import CompositeInfo, register_composite

from tests.bench.environment import SubprocessCpu
from tests.bench.figures import Figure, Goal, per_million_events
from tests.bench.registry import Bench, scenario
from tests.bench.scenarios import LoadResult, closed_loop
from tests.bench.store import _check_stop, in_thread, run_cli, store_bound, store_of

DATABASE = "bench_chain"
BUSINESSES = 10
WINDOWS = 3  # windows per setting, alternated: on, off, on, off, ...
APPEND = (  # as adapters/event_store.py's OneRoundTripRecorder sends it
    "SELECT notification_id FROM public.invoicing_events_append"
    "(%s::public.stored_event_uuid[], '0s') AS notification_id"
)
CHAIN_OFF = (
    "ALTER TABLE invoicing_events DISABLE TRIGGER invoicing_events_chain",
    "ALTER TABLE invoicing_events ALTER COLUMN chain_business DROP NOT NULL,"
    " ALTER COLUMN chain_position DROP NOT NULL, ALTER COLUMN chain_hash DROP NOT NULL",
)
CHAIN_ON = ("ALTER TABLE invoicing_events ENABLE TRIGGER invoicing_events_chain",)


def _state(business: uuid.UUID, topic: str, **fields: Any) -> bytes:
    """Shaped as this app's JSONTranscoder writes an event (compact JSON, the timestamp first,
    then for a created event its aggregate's topic and business_id), about its usual size."""
    created = {
        "originator_topic": topic,
        "business_id": {"_type_": "uuid_hex", "_data_": business.hex},
    }
    return json.dumps(
        {
            "timestamp": {"_type_": "datetime_iso", "_data_": "2026-01-01T00:00:00.000000+00:00"},
            **(created if topic else {}),
            **fields,
        },
        separators=(",", ":"),
    ).encode()


DETAILS = {
    "name": "Bench client",
    "email": "client@bench.example",
    "country": "FR",
    "lines": "x" * 400,
}


async def _appender(url: str, business: uuid.UUID) -> tuple[Any, Callable[[], Awaitable[None]]]:
    conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    info = await CompositeInfo.fetch(conn, "stored_event_uuid")
    assert info is not None, "type stored_event_uuid missing: migrations not applied?"
    register_composite(info, conn)
    make = info.python_type
    assert make is not None
    series = uuid.uuid4()
    version = 0

    async def append() -> str | None:
        nonlocal version
        version += 1
        fresh = uuid.uuid4()
        events = [
            make(fresh, 1, "bench:Invoice.Created", _state(business, "bench:Invoice", **DETAILS))
        ]
        if version == 1:
            state = _state(business, "bench:Series", year=2026)
            events.append(make(series, 1, "bench:Series.Created", state))
        else:  # the series' business: looked up from its version 1
            state = _state(business, "", sequence=version, invoice_id=str(fresh))
            events.append(make(series, version, "bench:Series.NumberAllocated", state))
        async with conn.cursor() as cursor:  # autocommit: the statement is the transaction
            await cursor.execute(APPEND, (events,), prepare=True)
            rows = await cursor.fetchall()
        return None if len(rows) == 2 else "not 2 notification ids"

    return conn, append


async def _windows(bench: Bench, url: str, connections: int) -> dict[str, list[LoadResult]]:
    businesses = [uuid.uuid4() for _ in range(BUSINESSES)]
    results: dict[str, list[LoadResult]] = {"on": [], "off": []}
    for _ in range(WINDOWS):
        for setting, statements in (("on", CHAIN_ON), ("off", CHAIN_OFF)):
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
                for statement in statements:
                    await admin.execute(statement)
                await admin.execute("CHECKPOINT")
            pairs = [await _appender(url, businesses[i % BUSINESSES]) for i in range(connections)]
            try:
                name = f"append x{connections}, chain {setting}"
                result = await closed_loop(
                    [op for _, op in pairs],
                    bench.settings.warmup,
                    bench.settings.duration,
                    bench.env.cpu_meter(name),
                )
            finally:
                for conn, _ in pairs:
                    await conn.close()
            bench.cpu.append(result.cpu)
            results[setting].append(result)
            bench.say(f"{name}: {result.rate:,.0f} tx/s")
    return results


def _database(server_url: str) -> str:
    from urllib.parse import urlparse, urlunparse

    from fastfaktura.adapters.database import migrate

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    url = urlunparse(urlparse(server_url)._replace(path="/" + DATABASE))
    migrate(url)
    return url


def _drop(server_url: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


@scenario(
    "chain_append",
    "event store appends (the app's one-round-trip append) with the hash chain on vs off, N and 1"
    " connections",
    timeout=lambda s: 60 + 2 * 2 * WINDOWS * (s.warmup + s.duration + 5),
)
async def chain_append(bench: Bench) -> list[Figure]:
    url = await in_thread(_database, bench.env.database_url)
    figures: list[Figure] = []
    try:
        for connections in (bench.settings.connections, 1):
            bench.client(
                f"append x{connections}, chain on/off",
                "psycopg 3 async, one invoicing_events_append statement per append (2 events),"
                " autocommit, one asyncio loop in the bench process",
            )
            results = await _windows(bench, url, connections)
            rate: dict[str, float] = {}
            cpu: dict[str, float] = {}  # PostgreSQL's CPU per append, microseconds
            errors: Counter[str] = Counter()
            for setting, windows in results.items():
                rate[setting] = sum(r.completed for r in windows) / sum(r.seconds for r in windows)
                busy = sum(r.cpu.postgres / 100 * r.cpu.seconds for r in windows)
                cpu[setting] = busy / max(1, sum(r.completed for r in windows)) * 1e6
                for window in windows:
                    errors += window.errors
            if errors:
                bench.notes.append(f"chain_append x{connections}: errors {dict(errors)}")
            figures += [
                Figure(
                    f"chain_on_rate_x{connections}",
                    f"append x{connections} (2 events/tx), hash chain on",
                    rate["on"],
                    "tx/s",
                    baseline=f"chain_off_rate_x{connections}",
                    goal=Goal("ratio", ">=", 0.9),
                    detail={"windows": [r.rate for r in results["on"]]},
                ),
                Figure(
                    f"chain_off_rate_x{connections}",
                    f"append x{connections} (2 events/tx), hash chain off",
                    rate["off"],
                    "tx/s",
                    detail={"windows": [r.rate for r in results["off"]]},
                ),
                # CPU time, unlike throughput, hardly depends on what else the machine runs.
                Figure(
                    f"chain_on_cpu_x{connections}",
                    f"PostgreSQL CPU per append x{connections}, hash chain on",
                    cpu["on"],
                    "us",
                    baseline=f"chain_off_cpu_x{connections}",
                ),
                Figure(
                    f"chain_off_cpu_x{connections}",
                    f"PostgreSQL CPU per append x{connections}, hash chain off",
                    cpu["off"],
                    "us",
                ),
            ]
    finally:
        await in_thread(_drop, bench.env.database_url)
    return figures


def read_chained(url: str) -> dict[str, float]:
    """The columns verify reads (the same seven, binary, as they are stored), of every event,
    once, as a plain client would: one COPY on one connection, the bytes counted, nothing
    parsed (verify also orders them by chain and splits them across processes)."""
    started = time.perf_counter()
    size = 0
    with (
        psycopg.connect(url) as conn,
        conn.cursor() as cursor,
        cursor.copy(
            "COPY (SELECT chain_business, chain_position, originator_id, originator_version,"
            " chain_hash, topic, state FROM invoicing_events) TO STDOUT (FORMAT BINARY)"
        ) as copy,
    ):
        while data := copy.read():
            size += len(data)
            _check_stop()
    return {"bytes": size, "seconds": time.perf_counter() - started}


@scenario(
    "store_verify",
    "audit verify over the generated store (CLI) vs reading the same columns once",
    timeout=store_bound,
    needs_server=False,
)
async def store_verify(bench: Bench) -> list[Figure]:
    store = await store_of(bench)
    meter = SubprocessCpu(
        f"read {store.events:,} chained events", store.cluster.postgres_pid, "-", 1
    )
    meter.start()
    read = await in_thread(read_chained, store.url)
    bench.cpu.append(meter.stop())
    bench.say(f"read the chained columns: {read['bytes'] / 1e6:,.0f} MB in {read['seconds']:.1f} s")
    run = await run_cli(
        bench,
        store,
        ["audit", "verify"],
        f"audit verify, {store.events:,} events",
        bench.env.workdir / "verify.log",
    )
    bench.cpu.append(run.cpu)
    bench.say(f"audit verify: exit {run.returncode} in {run.seconds:.1f} s")
    cores = len(os.sched_getaffinity(0))  # verify's default --processes
    if run.returncode != 0:
        raise RuntimeError(f"audit verify failed (exit {run.returncode}): {run.output[-2000:]}")
    return [
        Figure(
            "verify_seconds",
            f"audit verify (CLI, {cores} processes: one per core), {store.events:,} events",
            run.seconds,
            "s",
            baseline="verify_read_seconds",
            goal=per_million_events(20.0, store.events),  # issue 18: 1M events <= 20 s
            detail={"events": store.events, "processes": cores},
        ),
        Figure(
            "verify_read_seconds",
            f"the same columns of {store.events:,} events, one binary COPY, one pass",
            read["seconds"],
            "s",
            detail=read,
        ),
    ]
