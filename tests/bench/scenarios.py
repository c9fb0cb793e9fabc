"""The scenarios of `make bench`, in the order they run and are printed.

To add one: write `async def name(bench: Bench) -> list[Figure]` decorated with `@scenario(...)`,
use `closed_loop` for a fixed-duration throughput window, and give each figure the key of its
same-run baseline. More scenarios: invoices.py (POST and GET by id on this server) and store.py
(a generated store of `--events` events: rebuild, audit replay, the invoice list).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import msgspec
import psycopg
from psycopg.types.composite import CompositeInfo, register_composite

from tests.bench import http
from tests.bench.environment import HOST, CpuMeter
from tests.bench.figures import CpuWindow, Figure, Goal, percentile
from tests.bench.registry import Bench, scenario

CLIENTS = "/api/v1/clients"
MS = 1000.0

# -- a closed-loop load window, shared by HTTP and database scenarios ---------------------------

Op = Callable[[], Awaitable[str | None]]  # one request or transaction; an error text, or None


@dataclass
class LoadResult:
    completed: int
    seconds: float
    latencies: list[float]  # seconds, of the operations completed inside the window
    errors: Counter[str]
    cpu: CpuWindow

    @property
    def rate(self) -> float:
        return self.completed / self.seconds

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * MS


async def closed_loop(
    ops: Sequence[Op], warmup: float, duration: float, meter: CpuMeter
) -> LoadResult:
    """Run every op in its own loop for warmup + duration seconds; count only what completes in
    the window after the warm-up. Each op is one connection: concurrency = len(ops)."""
    opens = time.perf_counter() + warmup
    closes = opens + duration
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    cpu: list[CpuWindow] = []

    async def drive(op: Op) -> None:
        while (started := time.perf_counter()) < closes:
            try:
                error = await op()
            except (OSError, asyncio.IncompleteReadError, http.HttpError, psycopg.Error) as exc:
                error = type(exc).__name__
                await asyncio.sleep(0.01)  # don't spin on a broken connection
            ended = time.perf_counter()
            if opens <= ended < closes:
                if error is None:
                    latencies.append(ended - started)
                else:
                    errors[error] += 1

    async def window() -> None:
        await asyncio.sleep(max(0.0, opens - time.perf_counter()))
        meter.start()
        await asyncio.sleep(max(0.0, closes - time.perf_counter()))
        cpu.append(meter.stop())

    async with asyncio.timeout(warmup + duration + 30):  # a hung server fails the run
        await asyncio.gather(window(), *(drive(op) for op in ops))
    return LoadResult(len(latencies), duration, latencies, errors, cpu[0])


def _client_body(n: int) -> bytes:
    return json.dumps(
        {
            "name": f"Bench client {n:07d}",
            "email": f"client{n}@bench.example",
            "country": "FR",
            "tags": ["bench"],
        }
    ).encode()


_numbers = itertools.count(1)


def _connection(bench: Bench) -> http.Connection:
    return http.Connection(HOST, bench.env.port, {"X-Api-Key": bench.env.account.api_key})


def _errors_note(bench: Bench, what: str, result: LoadResult) -> None:
    if result.errors:
        listed = ", ".join(f"{k} x{v}" for k, v in result.errors.most_common())
        bench.notes.append(f"{what}: failures in the window (not counted): {listed}")


# -- 1. POST /api/v1/clients under 16 connections ------------------------------------------------


@scenario("clients_post_load", "POST /api/v1/clients, N keep-alive connections, closed loop")
async def clients_post_load(bench: Bench) -> list[Figure]:
    s = bench.settings
    bench.client("HTTP load", http.DESCRIPTION)
    connections = [_connection(bench) for _ in range(s.connections)]
    await asyncio.gather(*(c.open() for c in connections))

    def op(conn: http.Connection) -> Op:
        async def post() -> str | None:
            response = await conn.send(conn.prepare("POST", CLIENTS, _client_body(next(_numbers))))
            return None if response.status == 201 else f"HTTP {response.status}"

        return post

    try:
        result = await closed_loop(
            [op(c) for c in connections],
            s.warmup,
            s.duration,
            bench.env.cpu_meter(f"POST /clients x{s.connections}"),
        )
    finally:
        await asyncio.gather(*(c.close() for c in connections))
    bench.cpu.append(result.cpu)
    _errors_note(bench, "POST /api/v1/clients", result)
    n = s.connections
    return [
        Figure(
            "clients_post_rate",
            f"POST /api/v1/clients x{n}",
            result.rate,
            "req/s",
            baseline="append_ceiling_rate",
            goal=Goal("ratio", ">=", 0.5),
            detail={"completed": result.completed, "seconds": result.seconds},
        ),
        Figure(
            "clients_post_p50",
            f"POST /api/v1/clients x{n} latency p50",
            result.p(50),
            "ms",
            baseline="append_ceiling_p50",
        ),
        Figure(
            "clients_post_p99",
            f"POST /api/v1/clients x{n} latency p99",
            result.p(99),
            "ms",
            baseline="append_ceiling_p99",
        ),
    ]


# -- 2. the event store's append pattern, raw, on the same database ------------------------------

SCRATCH = "bench_events"
# The app runs with POSTGRES_LOCK_TIMEOUT unset: the library then sends '0s' (wait forever).
APPEND_STATEMENTS = (
    "SET LOCAL lock_timeout = '0s'",
    f"LOCK TABLE public.{SCRATCH} IN EXCLUSIVE MODE",
)
NOTIFY = f"NOTIFY {SCRATCH}"
INSERT = (
    f"INSERT INTO public.{SCRATCH} AS t (originator_id, originator_version, topic, state)"
    " SELECT originator_id, originator_version, topic, state"
    " FROM unnest(%s::public.stored_event_uuid[]) RETURNING notification_id"
)
# ~370 bytes of JSON: the order of size of one event's state in this app.
STATE = json.dumps(
    {
        "originator_id": {"_type_": "uuid_hex", "_data_": "0" * 32},
        "originator_version": 1,
        "timestamp": {"_type_": "datetime_iso", "_data_": "2025-01-01T00:00:00.000000+00:00"},
        "business_id": {"_type_": "uuid_hex", "_data_": "0" * 32},
        "details": {"name": "Bench client", "email": "client@bench.example", "country": "FR"},
    }
).encode()
TOPIC = "fastfaktura.bench:Registered"


@asynccontextmanager
async def scratch_events(url: str) -> AsyncIterator[None]:
    """A table shaped as invoicing_events (own sequence, same PK, unique index); dropped after."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        shape = await (
            await conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_name = 'invoicing_events' ORDER BY ordinal_position"
            )
        ).fetchall()
        expected = [
            ("originator_id", "uuid"),
            ("originator_version", "bigint"),
            ("topic", "text"),
            ("state", "bytea"),
            ("notification_id", "bigint"),
        ]
        # The library's columns; the hash chain's (migration 0016) follow, filled by a trigger
        # the scratch table does not have: this baseline is the append without the chain.
        if [tuple(r) for r in shape][: len(expected)] != expected:
            raise RuntimeError(f"invoicing_events changed shape ({shape}): update {SCRATCH}")
        await conn.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
        await conn.execute(
            f"CREATE TABLE {SCRATCH} (originator_id uuid NOT NULL,"
            " originator_version bigint NOT NULL, topic text, state bytea,"
            " notification_id bigserial, PRIMARY KEY (originator_id, originator_version))"
            " WITH (autovacuum_enabled = true, autovacuum_vacuum_threshold = 100000000,"
            " autovacuum_vacuum_scale_factor = 0.5, autovacuum_analyze_threshold = 1000,"
            " autovacuum_analyze_scale_factor = 0.01)"
        )
        await conn.execute(
            f"CREATE UNIQUE INDEX {SCRATCH}_notification_id_idx ON {SCRATCH} (notification_id ASC)"
        )
        try:
            yield
        finally:
            await conn.execute(f"DROP TABLE IF EXISTS {SCRATCH}")


Appender = tuple[Callable[[], Awaitable[None]], Op]  # (close, one append transaction)


async def library_appender(url: str) -> Appender:
    """One append exactly as PostgresApplicationRecorder.insert_events sends it (psycopg, one
    pipeline + transaction: SET LOCAL lock_timeout, LOCK TABLE, NOTIFY, INSERT ... RETURNING,
    sync, fetch, COMMIT): the table lock is held across one client round trip."""
    conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    info = await CompositeInfo.fetch(conn, "stored_event_uuid")
    if info is None:
        raise RuntimeError("type stored_event_uuid missing: migrations not applied?")
    register_composite(info, conn)
    make = info.python_type
    assert make is not None

    async def append() -> str | None:
        events = [make(uuid.uuid4(), 1, TOPIC, STATE)]
        async with conn.pipeline() as pipeline, conn.transaction(), conn.cursor() as cursor:
            for statement in APPEND_STATEMENTS:
                await cursor.execute(statement, prepare=True)
            await cursor.execute(NOTIFY)
            await cursor.execute(INSERT, (events,))
            await pipeline.sync()
            rows = await cursor.fetchall()
        return None if len(rows) == 1 else "no notification id"

    return conn.close, append


async def one_round_trip_appender(url: str) -> Appender:
    """The same statements sent as one simple-query string (asyncpg), BEGIN to COMMIT: the lock
    is held for no client round trip. What the pattern costs PostgreSQL alone."""
    conn = await asyncpg.connect(url)
    state = STATE.hex()

    async def append() -> str | None:
        await conn.execute(
            "BEGIN; " + "; ".join(APPEND_STATEMENTS) + f"; {NOTIFY}; INSERT INTO public.{SCRATCH}"
            " (originator_id, originator_version, topic, state)"
            f" VALUES ('{uuid.uuid4()}', 1, '{TOPIC}', '\\x{state}'::bytea)"
            " RETURNING notification_id; COMMIT"
        )
        return None

    return conn.close, append


APPENDERS: dict[Callable[[str], Awaitable[Appender]], str] = {
    library_appender: "psycopg 3 AsyncConnection in pipeline mode sending the library's exact"
    " statements, one asyncio loop in the bench process",
    one_round_trip_appender: "asyncpg, the same statements as one simple-query string"
    " (BEGIN..COMMIT), one asyncio loop in the bench process",
}


async def _append_load(
    bench: Bench,
    connections: int,
    duration: float,
    name: str,
    appender: Callable[[str], Awaitable[Appender]] = library_appender,
) -> LoadResult:
    url = bench.env.database_url
    bench.client(name, APPENDERS[appender])
    async with scratch_events(url):
        pairs = [await appender(url) for _ in range(connections)]
        try:
            return await closed_loop(
                [op for _, op in pairs], bench.settings.warmup, duration, bench.env.cpu_meter(name)
            )
        finally:
            for close, _ in pairs:
                await close()


@scenario("append_ceiling", "event store append pattern as the library sends it, N connections")
async def append_ceiling(bench: Bench) -> list[Figure]:
    n = bench.settings.connections
    result = await _append_load(bench, n, bench.settings.duration, f"raw append x{n}")
    bench.cpu.append(result.cpu)
    _errors_note(bench, "raw append", result)
    return [
        Figure(
            "append_ceiling_rate",
            f"raw append x{n} (lock+NOTIFY+INSERT)",
            result.rate,
            "tx/s",
            reference="1.7k tx/s at 8 connections, 0.9k at 1",
            detail={"completed": result.completed, "seconds": result.seconds},
        ),
        Figure("append_ceiling_p50", f"raw append x{n} latency p50", result.p(50), "ms"),
        Figure("append_ceiling_p99", f"raw append x{n} latency p99", result.p(99), "ms"),
    ]


@scenario("append_one_round_trip", "the same pattern in one round trip (asyncpg), N connections")
async def append_one_round_trip(bench: Bench) -> list[Figure]:
    n = bench.settings.connections
    name = f"raw append x{n}, 1 round trip"
    result = await _append_load(
        bench, n, bench.settings.duration / 2, name, one_round_trip_appender
    )
    bench.cpu.append(result.cpu)
    _errors_note(bench, name, result)
    return [
        Figure(
            "append_one_round_trip_rate",
            f"raw append x{n}, whole tx in 1 round trip",
            result.rate,
            "tx/s",
            baseline="append_ceiling_rate",
            detail={"completed": result.completed, "seconds": result.seconds},
        )
    ]


# -- 3. write-to-visible, one at a time ----------------------------------------------------------


@scenario("clients_write_visible", "POST a client, then GET it on another connection, sequential")
async def clients_write_visible(bench: Bench) -> list[Figure]:
    s = bench.settings
    visible: list[float] = []
    posts: list[float] = []
    gets: list[float] = []
    misses = 0  # GETs answered 404 before the 200: read-your-writes not kept
    failures: Counter[str] = Counter()
    deadline = time.perf_counter() + 60
    meter = bench.env.cpu_meter(f"write-to-visible x{s.samples}")
    async with _connection(bench) as writer, _connection(bench) as reader:
        for i in range(s.sample_warmup + s.samples):
            if i == s.sample_warmup:
                meter.start()
            if time.perf_counter() > deadline:
                bench.notes.append(f"write-to-visible stopped at the 60 s bound after {i} samples")
                break
            body = _client_body(next(_numbers))
            t0 = time.perf_counter()
            posted = await writer.send(writer.prepare("POST", CLIENTS, body))
            t1 = time.perf_counter()
            if posted.status != 201:
                failures[f"POST HTTP {posted.status}"] += 1
                continue
            client_id = msgspec.json.decode(posted.body)["id"]
            get = reader.prepare("GET", f"{CLIENTS}/{client_id}")
            while True:
                got = await reader.send(get)
                if got.status == 200 and client_id.encode() in got.body:
                    break
                if got.status != 404 or time.perf_counter() - t0 > 5:
                    failures[f"GET HTTP {got.status}"] += 1
                    break
                misses += 1
            t2 = time.perf_counter()
            if i >= s.sample_warmup and got.status == 200:
                visible.append(t2 - t0)
                posts.append(t1 - t0)
                gets.append(t2 - t1)
    if visible:
        bench.cpu.append(meter.stop())
    if misses:
        bench.notes.append(f"read-your-writes: {misses} GET(s) answered 404 before the 200")
    if failures:
        listed = ", ".join(f"{k} x{v}" for k, v in failures.most_common())
        bench.notes.append(f"write-to-visible failures: {listed}")

    def ms(values: list[float], q: float) -> float:
        return percentile(values, q) * MS

    detail = {"samples": len(visible), "get_404_before_200": misses}
    return [
        Figure(
            "visible_p50",
            "write-to-visible p50 (POST, GET by id) x1",
            ms(visible, 50),
            "ms",
            baseline="append_single_p50",
            goal=Goal("value", "<=", 5.0),
            detail=detail,
        ),
        Figure(
            "visible_p99",
            "write-to-visible p99 x1",
            ms(visible, 99),
            "ms",
            baseline="append_single_p99",
            goal=Goal("value", "<=", 15.0),  # issue 12
        ),
        Figure("visible_post_p50", "  its POST part p50 x1", ms(posts, 50), "ms"),
        Figure("visible_get_p50", "  its GET part p50 x1", ms(gets, 50), "ms"),
    ]


# -- 4. the append pattern alone, one connection: the floor of a write -----------------------------


@scenario("append_single", "event store append pattern, raw, 1 connection")
async def append_single(bench: Bench) -> list[Figure]:
    result = await _append_load(bench, 1, bench.settings.duration / 2, "raw append x1")
    bench.cpu.append(result.cpu)
    _errors_note(bench, "raw append x1", result)
    return [
        Figure(
            "append_single_rate",
            "raw append x1",
            result.rate,
            "tx/s",
            reference="0.9k tx/s at 1 connection",
        ),
        Figure("append_single_p50", "raw append x1 latency p50", result.p(50), "ms"),
        Figure("append_single_p99", "raw append x1 latency p99", result.p(99), "ms"),
    ]
