"""The large store: `--events N` (default 1,000,000) invoice `created` events of 10 businesses in an
embedded PostgreSQL of their own (a second cluster: one `fastfaktura serve` holds about half of a
cluster's 100 connections, and the main server is still up). On it: the real CLI, run as
subprocesses so that they are whatever src/ holds now (`fastfaktura projections rebuild --all`,
`fastfaktura audit replay`), and GET /api/v1/invoices?status=draft on a second `fastfaktura
serve`.

Generating the store through the API would take hours, so it is stamped: the 10 businesses and
their clients are registered through the application (real events), one invoice per business is
drafted through the domain (Invoice.draft, 3 lines) and mapped to its stored event, and copies of
that stored state are COPied into invoicing_events, each with a new originator id (uuid4), its own
number (the business's sequence, as format_number writes it), its own public token (24 random
bytes, URL-safe base64, as the app makes them) and its own timestamp (1 ms apart, in order).
Stamped states are decoded back through the application's mapper to check them. The COPY goes
through the hash chain's trigger (migration 0016) like any insert, so the store is chained per
business as the service would have chained it (`store_verify` checks it).

The store has no InvoiceSeries events (no number was allocated through a series): nothing here
creates invoices on it, and no read model shows series.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import math
import os
import re
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import asyncpg
import msgspec
import psycopg
from psycopg import sql

from tests.bench import http
from tests.bench.environment import (
    HOST,
    Cluster,
    SubprocessCpu,
    fastfaktura_command,
    free_port,
)
from tests.bench.figures import CpuWindow, Figure, Goal, per_million_events, percentile
from tests.bench.registry import Bench, Settings, scenario

STORE = "store"  # the second cluster's directory under the bench's work directory
BUSINESSES = 10
PAGE = 1000  # rows per executemany transaction in the insert ceiling
CLI_BOUND_PER_MILLION = 900.0  # seconds a CLI run may take per million events before it is killed
MS = 1000.0
P = ParamSpec("P")
T = TypeVar("T")

# Set when a scenario is cancelled (time bound, SIGTERM, Ctrl-C): the long loops running in
# threads check it and stop, so the run's clean-up does not wait for them to finish.
_STOP = threading.Event()


class Stopped(Exception):
    pass


def _check_stop() -> None:
    if _STOP.is_set():
        raise Stopped("stopped: the scenario was cancelled")


async def in_thread(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn` in a worker thread; if the awaiting scenario is cancelled, tell the thread to stop."""
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except asyncio.CancelledError:
        _STOP.set()
        raise


def store_bound(settings: Settings) -> float:
    """Time limit of a store scenario: generating, rebuilding and the baselines all scale."""
    return 300.0 + 2 * CLI_BOUND_PER_MILLION * settings.events / 1e6


# -- the store ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    business_id: uuid.UUID
    api_key: str
    prefix: str
    invoices: int = 0


@dataclass
class Store:
    cluster: Cluster
    invoices: int  # invoice events stamped
    events: int  # rows in invoicing_events (the invoices and the registrations)
    tenants: list[Tenant]
    phases: dict[str, float] = field(default_factory=dict)  # what making it cost, seconds
    rebuild: CliRun | None = None
    rebuild_error: str | None = None

    @property
    def url(self) -> str:
        return self.cluster.url


@dataclass(frozen=True)
class CliRun:
    command: str
    seconds: float
    returncode: int
    output: str
    cpu: CpuWindow


def _template(app: Any, tenant: Tenant, client_id: uuid.UUID, issued: datetime) -> Any:
    """One real `created` event of this business, drafted through the domain, as stored."""
    from fastfaktura.application import BUYER_FIELDS, SELLER_FIELDS
    from fastfaktura.domain.business import Business
    from fastfaktura.domain.client import Client
    from fastfaktura.domain.invoice import Invoice, InvoiceLine
    from fastfaktura.domain.payment_reference import reference_for_number

    business = app.get(Business, tenant.business_id)
    client = app.get(Client, client_id, tenant.business_id)
    invoice = Invoice.draft(
        business_id=tenant.business_id,
        client_id=client.id,
        number=NUMBER_MARK,
        currency="EUR",
        issue_date=issued.date(),
        due_date=issued.date() + timedelta(days=int(business.profile["payment_terms_days"])),
        notes="Bench store invoice",
        lines=[
            InvoiceLine("Consulting", Decimal("1.5"), 12000, Decimal("20")),
            InvoiceLine("Travel", Decimal("1"), 4550, Decimal("10")),
            InvoiceLine("Loyalty discount", Decimal("1"), -1000, Decimal("20")),
        ],
        public_token=TOKEN_MARK,
        # The number is a mark stamped per copy; the reference derived from it cannot be, so
        # every copy of this business carries the reference of its first number.
        terms={"payment_reference": reference_for_number(f"S-{issued.year}-00001", "FR")},
        seller={"name": business.name, **{k: business.profile.get(k) for k in SELLER_FIELDS}},
        buyer={**{k: client.details.get(k) for k in BUYER_FIELDS}, "id": str(client.id)},
    )
    (event,) = invoice.collect_events()
    return event


NUMBER_MARK = "N#U#M#B#E#R"
TOKEN_MARK = "T" * 32  # the length of secrets.token_urlsafe(24)


class Stamp:
    """Copies of one stored state, each with its own timestamp, number and token.

    The state is cut around those three JSON string values; a copy is the pieces joined around
    new values, all plain ASCII inside the same quotes, so the JSON stays valid (the token keeps
    its length; the number grows a digit past 99,999, as format_number writes it)."""

    def __init__(self, state: bytes, timestamp: str) -> None:
        marks = [b'"%s"' % m.encode() for m in (timestamp, NUMBER_MARK, TOKEN_MARK)]
        for mark in marks:
            if state.count(mark) != 1:
                raise RuntimeError(f"{mark!r} is not exactly once in the state: {state[:300]!r}")
        self.pieces: list[bytes] = []
        self.order: list[int] = []  # which value goes in each gap
        cut = 0
        for at, which in sorted((state.index(m), i) for i, m in enumerate(marks)):
            self.pieces.append(state[cut : at + 1])  # up to and with the opening quote
            self.order.append(which)
            cut = at + len(marks[which]) - 1  # from the closing quote on
        self.pieces.append(state[cut:])

    def state(self, values: tuple[bytes, bytes, bytes]) -> bytes:
        """The state with (timestamp, number, token) in place of the template's."""
        p, o = self.pieces, self.order
        return b"".join((p[0], values[o[0]], p[1], values[o[1]], p[2], values[o[2]], p[3]))


def generate_store(bench: Bench) -> Store:
    """Make the store (synchronous: run it in a thread). Every phase is timed and said."""
    from fastfaktura.adapters.database import ConnectionParams
    from fastfaktura.application import Invoicing
    from fastfaktura.domain.series import format_number

    env = bench.env
    n = bench.settings.events
    phases: dict[str, float] = {}
    t = time.perf_counter()
    cluster = env.start_cluster(STORE)
    url = cluster.url
    phases["start a second embedded PostgreSQL, migrate"] = time.perf_counter() - t

    t = time.perf_counter()
    app = Invoicing(ConnectionParams.from_url(url).eventsourcing_env(pool_size=2, max_overflow=2))
    try:
        now = datetime.now(UTC)
        tenants: list[Tenant] = []
        templates: list[Any] = []
        for b in range(BUSINESSES):
            prefix = f"S{b}-"
            issued = app.register_business(
                f"Bench Store {b}",
                "sandbox",
                legal_name=f"Bench Store {b} SAS",
                email=f"billing{b}@store.bench.example",
                address=f"{b + 1} rue du Banc, 75001 Paris",
                country="FR",
                vat_number=f"FR{b:02d}123456789",
                iban="FR1420041010050500013M02606",
                bic="PSSTFRPPLIL",
                currency="EUR",
                locale="fr",
                invoice_prefix=prefix,
            ).value
            client = app.register_client(
                issued.business_id,
                {
                    "name": f"Store client {b}",
                    "email": f"client{b}@store.bench.example",
                    "address": "1 Main Street, Springfield",
                    "country": "FR",
                    "vat_number": f"FR{b:02d}987654321",
                },
            ).value
            count = n // BUSINESSES + (b < n % BUSINESSES)
            tenant = Tenant(issued.business_id, issued.secret, prefix, count)
            tenants.append(tenant)
            templates.append(_template(app, tenant, client.id, now))
        phases["register 10 businesses and clients (through the app)"] = time.perf_counter() - t

        t = time.perf_counter()
        stored = [app.mapper.to_stored_event(e) for e in templates]
        stamps = [
            Stamp(s.state, e.timestamp.isoformat()) for s, e in zip(stored, templates, strict=True)
        ]
        topic = stored[0].topic
        year = now.year
        start = now - timedelta(milliseconds=n)  # the last invoice is (about) now
        checks: dict[int, tuple[uuid.UUID, str, str, datetime, uuid.UUID]] = {}
        probe = {0, 1, n // 2, n - 1} | {(n * k) // 97 for k in range(97)}
        with (
            psycopg.connect(url, autocommit=True) as conn,
            conn.cursor().copy(
                "COPY invoicing_events (originator_id, originator_version, topic, state)"
                " FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(["uuid", "int8", "text", "bytea"])
            random_bytes = os.urandom
            b64 = base64.urlsafe_b64encode
            for i in range(n):
                if i % 10_000 == 0:
                    _check_stop()
                b = i % BUSINESSES
                sequence = i // BUSINESSES + 1
                originator = uuid.uuid4()
                when = start + timedelta(milliseconds=i)
                timestamp = when.isoformat(timespec="microseconds")
                number = format_number(tenants[b].prefix, year, sequence)
                token = b64(random_bytes(24))
                state = stamps[b].state((timestamp.encode(), number.encode(), token))
                copy.write_row((originator, 1, topic, state))
                if i in probe:
                    checks[i] = (originator, number, token.decode(), when, tenants[b].business_id)
        phases[f"stamp and COPY {n:,} events"] = time.perf_counter() - t

        t = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as conn:
            _verify(app, conn, topic, checks)
            conn.execute("ANALYZE invoicing_events")
            conn.execute("CHECKPOINT")
            row = conn.execute("SELECT count(*) FROM invoicing_events").fetchone()
            assert row is not None
            events = int(row[0])
        phases["verify stamped states, ANALYZE, CHECKPOINT"] = time.perf_counter() - t
    finally:
        app.close()
    return Store(cluster, n, events, tenants, phases)


def _verify(
    app: Any,
    conn: psycopg.Connection[Any],
    topic: str,
    checks: dict[int, tuple[uuid.UUID, str, str, datetime, uuid.UUID]],
) -> None:
    """Decode stamped states through the app's mapper: each is valid and holds its values."""
    from eventsourcing.persistence import StoredEvent

    ids = [c[0] for c in checks.values()]
    rows = conn.execute(
        "SELECT originator_id, originator_version, topic, state FROM invoicing_events"
        " WHERE originator_id = ANY(%s)",
        (ids,),
    ).fetchall()
    found = {r[0]: r for r in rows}
    for i, (originator, number, token, when, business_id) in checks.items():
        if originator not in found:
            raise RuntimeError(f"stamped event {i} ({originator}) not in the store")
        oid, version, stored_topic, state = found[originator]
        msgspec.json.decode(bytes(state))  # valid JSON
        event = app.mapper.to_domain_event(StoredEvent(oid, version, stored_topic, bytes(state)))
        got = (event.number, event.public_token, event.timestamp, event.business_id)
        if stored_topic != topic or got != (number, token, when, business_id):
            raise RuntimeError(f"stamped event {i} decodes to {got}, expected {number, token}")
        if event.originator_id != originator or len(event.lines) != 3:
            raise RuntimeError(f"stamped event {i}: wrong id or lines: {event!r}")


async def store_of(bench: Bench) -> Store:
    """The store of this run, made on first use (by whichever store scenario runs first)."""
    found = bench.shared.get("store")
    if isinstance(found, Store):
        return found
    if isinstance(found, BaseException):
        raise RuntimeError(f"the store could not be made earlier: {found}")
    n = bench.settings.events
    bench.say(f"generating the store: {n:,} invoice events of {BUSINESSES} businesses ...")
    started = time.perf_counter()
    try:
        store = await in_thread(generate_store, bench)
    except Exception as exc:
        bench.shared["store"] = exc
        raise
    for phase, seconds in store.phases.items():
        bench.say(f"  {phase}: {seconds:.1f} s")
    total = time.perf_counter() - started
    bench.say(f"store ready in {total:.1f} s: {store.events:,} events")
    listed = "; ".join(f"{k} {v:.1f} s" for k, v in store.phases.items())
    bench.notes.append(
        f"the store ({store.events:,} events: {n:,} stamped invoice `created` events of"
        f" {BUSINESSES} businesses + their registrations) took {total:.0f} s to make: {listed}"
    )
    bench.shared["store"] = store
    return store


# -- the CLI as a subprocess ---------------------------------------------------------------------


async def run_cli(bench: Bench, store: Store, args: list[str], name: str, log: Path) -> CliRun:
    """`fastfaktura ARGS` on the store's database, timed, its output kept in `log`. Killed
    (with the processes it started: its own session) if it overruns its bound."""
    bound = 60 + CLI_BOUND_PER_MILLION * store.events / 1e6
    meter = SubprocessCpu(name, store.cluster.postgres_pid, "the CLI (and its workers)", 2)
    command = [*fastfaktura_command(), *args]
    with log.open("wb") as out:
        meter.start()
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            *command,
            env=bench.env.cli_env(store.url),
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            async with asyncio.timeout(bound):
                returncode = await process.wait()
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # its session: the CLI and its workers
            await asyncio.shield(process.wait())
            raise
        seconds = time.perf_counter() - started
        cpu = meter.stop()
    output = log.read_text(errors="replace")
    return CliRun(" ".join(["fastfaktura", *args]), seconds, returncode, output, cpu)


async def rebuilt(bench: Bench) -> Store:
    """The store with its read models rebuilt by the CLI (once per run)."""
    store = await store_of(bench)
    if store.rebuild is not None:
        return store
    if store.rebuild_error is not None:
        raise RuntimeError(f"the rebuild failed earlier: {store.rebuild_error}")
    await _checkpoint(store.url)
    bench.say(f"fastfaktura projections rebuild --all over {store.events:,} events ...")
    run = await run_cli(
        bench,
        store,
        ["projections", "rebuild", "--all"],
        f"projections rebuild --all, {store.events:,} events",
        bench.env.workdir / "rebuild.log",
    )
    if run.returncode != 0:
        store.rebuild_error = f"exit {run.returncode}: {run.output[-1500:]}"
        raise RuntimeError(f"projections rebuild --all: {store.rebuild_error}")
    bench.say(f"rebuild done in {run.seconds:.1f} s")
    store.rebuild = run
    return store


async def _checkpoint(url: str) -> None:
    """Flush dirty pages first, so a timed phase does not pay for the previous one's writes."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


def _cli_events(output: str) -> dict[str, int]:
    """`name: N events, swapped in at P` lines of `projections rebuild`."""
    return {m[1]: int(m[2]) for m in re.finditer(r"(?m)^(\w+): (\d+) events", output)}


# -- 4a. rebuild vs the executemany insert ceiling -----------------------------------------------


def insert_ceiling(url: str, rows: int) -> dict[str, float]:
    """Insert the rebuilt rm_invoices rows again into a copy of the table (its indexes too) with
    psycopg executemany, PAGE rows per transaction; only the inserting is timed (reading the
    rows back is not). Synchronous: run it in a thread."""
    with (
        psycopg.connect(url, autocommit=True) as reader,
        psycopg.connect(url, autocommit=True) as writer,
    ):
        writer.execute("DROP TABLE IF EXISTS bench_rows")
        writer.execute("CREATE TABLE bench_rows (LIKE rm_invoices INCLUDING ALL)")
        try:
            columns = [
                r[0]
                for r in reader.execute(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_name = 'rm_invoices' ORDER BY ordinal_position"
                )
            ]
            insert = sql.SQL("INSERT INTO bench_rows ({}) VALUES ({})").format(
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            )
            writer.execute("CHECKPOINT")
            inserting = 0.0
            inserted = 0
            started = time.perf_counter()
            with reader.transaction(), reader.cursor(name="bench_rows_source") as source:
                source.itersize = PAGE
                # jsonb as its text: the insert then sends it as text, as a writer would.
                selected = sql.SQL(", ").join(
                    sql.SQL("{}::text").format(sql.Identifier(c))
                    if c in ("lines", "tax_breakdown", "seller", "buyer")
                    else sql.Identifier(c)
                    for c in columns
                )
                source.execute(
                    sql.SQL("SELECT {} FROM rm_invoices LIMIT %s").format(selected), (rows,)
                )
                with writer.cursor() as cursor:
                    while page := source.fetchmany(PAGE):
                        _check_stop()
                        t = time.perf_counter()
                        with writer.transaction():
                            cursor.executemany(insert, page)
                        inserting += time.perf_counter() - t
                        inserted += len(page)
            total = time.perf_counter() - started
        finally:
            writer.execute("DROP TABLE IF EXISTS bench_rows")
    return {"rows": inserted, "insert_seconds": inserting, "wall_seconds": total}


@scenario(
    "store_rebuild",
    "projections rebuild --all over the generated store (CLI) vs an executemany insert ceiling",
    timeout=store_bound,
    needs_server=False,
)
async def store_rebuild(bench: Bench) -> list[Figure]:
    store = await store_of(bench)
    fresh = store.rebuild is None
    store = await rebuilt(bench)
    run = store.rebuild
    assert run is not None
    if not fresh:
        bench.notes.append("store_rebuild: the rebuild had already run (as another's set-up)")
    bench.cpu.append(run.cpu)
    cli_events = _cli_events(run.output)
    if sum(cli_events.values()) != store.events:
        listed = ", ".join(f"{k} {v:,}" for k, v in cli_events.items())
        bench.notes.append(
            f"projections rebuild --all folded {sum(cli_events.values()):,} events over its read"
            f" models ({listed}); the store holds {store.events:,}: the rate counts each"
            " stored event once (events that feed several read models are read again for each)"
        )

    await _checkpoint(store.url)
    bench.say(f"insert ceiling: executemany of {store.invoices:,} rm_invoices rows ...")
    name = f"executemany {store.invoices:,} rows"
    meter = SubprocessCpu(name, store.cluster.postgres_pid, "-", 1)
    meter.start()
    ceiling = await in_thread(insert_ceiling, store.url, store.invoices)
    cpu = meter.stop()
    bench.cpu.append(cpu)
    bench.client(cpu.name, "psycopg 3 executemany (pipeline mode), in a thread of the bench")
    bench.say(
        f"executemany: {ceiling['rows']:,.0f} rows, {ceiling['insert_seconds']:.1f} s inserting"
        f" ({ceiling['wall_seconds']:.1f} s with reading them back)"
    )
    rate = store.events / run.seconds
    return [
        Figure(
            "rebuild_rate",
            f"projections rebuild --all (CLI), {store.events:,} events",
            rate,
            "events/s",
            baseline="insert_ceiling_rate",
            goal=Goal("ratio", ">=", 0.8),  # issue 12
            detail={"events": store.events, "seconds": run.seconds, "reported": cli_events},
        ),
        Figure(
            "rebuild_seconds",
            "  its wall time (process start to exit)",
            run.seconds,
            "s",
            goal=per_million_events(30.0, store.events),  # issue 12: 1M events <= 30 s
        ),
        Figure(
            "insert_ceiling_rate",
            f"executemany insert of {ceiling['rows']:,.0f} rm_invoices rows, {PAGE}/tx",
            ceiling["rows"] / ceiling["insert_seconds"],
            "rows/s",
            detail=ceiling,
        ),
    ]


# -- 4b. audit replay vs reading every event once ------------------------------------------------


def read_all_states(url: str) -> dict[str, float]:
    """SELECT state FROM invoicing_events, streamed in one pass (server-side cursor)."""
    started = time.perf_counter()
    rows = size = 0
    with (
        psycopg.connect(url) as conn,
        conn.cursor(name="bench_read_all") as cursor,
    ):
        cursor.itersize = 10_000
        cursor.execute("SELECT state FROM invoicing_events")
        while batch := cursor.fetchmany(10_000):
            _check_stop()
            rows += len(batch)
            size += sum(len(r[0]) for r in batch)
    return {"rows": rows, "bytes": size, "seconds": time.perf_counter() - started}


@scenario(
    "store_audit",
    "audit replay over the generated store (CLI) vs reading every event once",
    timeout=store_bound,
    needs_server=False,
)
async def store_audit(bench: Bench) -> list[Figure]:
    store = await rebuilt(bench)
    name = f"read all {store.events:,} states"
    meter = SubprocessCpu(name, store.cluster.postgres_pid, "-", 1)
    meter.start()
    read = await in_thread(read_all_states, store.url)
    bench.cpu.append(meter.stop())
    bench.client(meter.name, "psycopg 3 server-side cursor, in a thread of the bench")
    bench.say(f"read all states: {read['rows']:,.0f} rows in {read['seconds']:.1f} s")

    bench.say(f"fastfaktura audit replay over {store.events:,} events ...")
    run = await run_cli(
        bench,
        store,
        ["audit", "replay"],
        f"audit replay, {store.events:,} events",
        bench.env.workdir / "audit.log",
    )
    bench.cpu.append(run.cpu)
    bench.say(f"audit replay: exit {run.returncode} in {run.seconds:.1f} s")
    if run.returncode != 0:
        lines = [ln for ln in run.output.splitlines() if ln.strip()]
        bench.notes.append(
            f"audit replay exited {run.returncode} (0 expected: read models agree with the"
            f" events); it said: {' | '.join(lines[-8:])[-1500:]}"
        )
        if run.returncode != 1:
            raise RuntimeError(f"audit replay failed (exit {run.returncode}): {run.output[-2000:]}")
    return [
        Figure(
            "audit_seconds",
            f"audit replay (CLI), {store.events:,} events, exit {run.returncode}",
            run.seconds,
            "s",
            baseline="read_all_seconds",
            goal=per_million_events(30.0, store.events),  # issue 12: 1M events <= 30 s
            detail={"returncode": run.returncode, "events": store.events},
        ),
        Figure(
            "read_all_seconds",
            f"SELECT state FROM invoicing_events, {read['rows']:,.0f} rows, one pass",
            read["seconds"],
            "s",
            detail=read,
        ),
    ]


# -- 3. GET /api/v1/invoices?status=draft with a large business ---------------------------------


Timed = Callable[[], Awaitable[str | None]]  # one request; an error text, or None
AS_LEFT_SAMPLES = 20  # GETs on rm_invoices as the rebuild left it, before VACUUM (ANALYZE)


async def _table_state(db: asyncpg.Connection, table: str) -> dict[str, Any]:
    """How much of the table the visibility map covers, and whether it has statistics."""
    row = await db.fetchrow(
        "SELECT c.relpages, c.relallvisible, c.reltuples,"
        " s.last_autovacuum, s.last_autoanalyze, s.last_vacuum, s.last_analyze"
        " FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = $1",
        table,
    )
    if row is None:
        return {"all_visible": math.nan, "analyzed": False}
    pages = row["relpages"]
    return {
        "all_visible": row["relallvisible"] / pages if pages > 0 else 0.0,
        "analyzed": row["reltuples"] >= 0,
        "pages": pages,
        "last_autovacuum": str(row["last_autovacuum"]),
        "last_autoanalyze": str(row["last_autoanalyze"]),
    }


async def _interleaved(
    ops: list[Timed], warmup: int, samples: int, bound: float
) -> list[tuple[list[float], Counter[str]]]:
    """Each op in turn, one at a time, warmup + samples rounds: alternating them, so that
    they all see the same conditions (a noisy machine drifts). Latencies and errors per op."""
    results: list[tuple[list[float], Counter[str]]] = [([], Counter()) for _ in ops]
    deadline = time.perf_counter() + bound
    for i in range(warmup + samples):
        if time.perf_counter() > deadline:
            results[0][1][f"stopped at the {bound:.0f} s bound after {i} rounds"] += 1
            break
        for op, (latencies, errors) in zip(ops, results, strict=True):
            t = time.perf_counter()
            error = await op()
            if i >= warmup:
                if error is None:
                    latencies.append(time.perf_counter() - t)
                else:
                    errors[error] += 1
    return results


@scenario(
    "invoices_list_draft",
    "GET /api/v1/invoices?status=draft, one business of the generated store, sequential",
    timeout=store_bound,
    needs_server=False,
)
async def invoices_list_draft(bench: Bench) -> list[Figure]:
    from fastfaktura.readmodels.queries.invoices import (
        InvoiceFilters,
        filtered_where,
        page_statements,
    )

    store = await rebuilt(bench)
    tenant = store.tenants[0]
    samples = bench.settings.list_samples
    warmup = max(10, samples // 10)
    env = bench.env
    port = free_port()
    bench.say(f"fastfaktura serve on the store ({store.events:,} events) ...")
    server = await asyncio.to_thread(
        env.serve, "fastfaktura serve (store)", store.url, port, env.workdir / "store_server.log"
    )
    try:
        path = "/api/v1/invoices?status=draft"
        async with http.Connection(HOST, port, {"X-Api-Key": tenant.api_key}) as conn:
            first = await conn.request("GET", path)
            if first.status != 200:
                raise RuntimeError(f"GET {path}: HTTP {first.status} {first.body[:300]!r}")
            page = msgspec.json.decode(first.body)
            if page["total"] != tenant.invoices or len(page["data"]) != page["per_page"]:
                raise RuntimeError(
                    f"GET {path}: total {page['total']}, {len(page['data'])} rows;"
                    f" the business has {tenant.invoices} invoices"
                )
            request = conn.prepare("GET", path)

            async def get() -> str | None:
                response = await conn.send(request)
                return None if response.status == 200 else f"HTTP {response.status}"

            # The floor: the same two statements the server sends (the page, then the count).
            where = filtered_where(tenant.business_id, InvoiceFilters(status="draft"))
            page_sql, count_sql, page_args = page_statements(where, page=1, per_page=50)
            db = await asyncpg.connect(store.url)
            try:

                async def select() -> str | None:
                    rows = await db.fetch(page_sql, *page_args)
                    total = await db.fetchval(count_sql, *where.args)
                    return None if len(rows) == 50 and total == tenant.invoices else "wrong rows"

                # As the rebuild left the table (until autovacuum visits the fresh table, its
                # visibility map is empty and count(*) reads the heap): a few samples, then
                # VACUUM (ANALYZE), then the figure, on the table as it stays.
                as_left = await _table_state(db, "rm_invoices")
                ((before, _),) = await _interleaved([get], 2, AS_LEFT_SAMPLES, 60)
                t = time.perf_counter()
                await db.execute("VACUUM (ANALYZE) rm_invoices")
                vacuum_seconds = time.perf_counter() - t

                meter = env.cpu_meter(
                    f"GET ?status=draft and its SQL, x1, {samples} each",
                    server,
                    "the store server",
                    store.cluster,
                )
                meter.start()
                (api, api_errors), (floor, floor_errors) = await _interleaved(
                    [get, select], warmup, samples, 120
                )
                bench.cpu.append(meter.stop())
            finally:
                await db.close()
    finally:
        await asyncio.to_thread(server.stop)
    for what, errors in (("GET ?status=draft", api_errors), ("its SQL", floor_errors)):
        if errors:
            listed = ", ".join(f"{k} x{v}" for k, v in errors.most_common())
            bench.notes.append(f"{what}: failures (not counted): {listed}")
    bench.client("GET ?status=draft", http.DESCRIPTION + ", one request at a time")
    bench.client(
        "its SQL",
        "asyncpg, one connection, in the bench process, one at a time, alternating with the GETs",
    )

    def ms(values: list[float], q: float) -> float:
        return percentile(values, q) * MS if values else math.nan

    bench.notes.append(
        f"GET /invoices?status=draft was measured after the bench ran VACUUM (ANALYZE)"
        f" rm_invoices ({vacuum_seconds:.1f} s). As the rebuild left the table"
        f" ({as_left['all_visible']:.0%} of its pages all-visible,"
        f" {'with' if as_left['analyzed'] else 'without'} statistics), the same GET took"
        f" p50 {ms(before, 50):.1f} ms, max {ms(before, 100):.1f} ms ({len(before)} samples)."
        " The generated store has only `created` events: status=sent is an empty page."
    )
    who = f"a business of {tenant.invoices:,} invoices"
    note = "(all draft: the store has only `created` events)"
    detail = {
        "samples": len(api),
        "invoices": tenant.invoices,
        "store_events": store.events,
        "as_rebuilt": {**as_left, "p50_ms": ms(before, 50), "samples": len(before)},
        "vacuum_analyze_seconds": vacuum_seconds,
    }
    return [
        Figure(
            "list_draft_p99",
            f"GET /invoices?status=draft p99 x1, {who}, vacuumed {note}",
            ms(api, 99),
            "ms",
            baseline="list_sql_p99",
            detail=detail,
        ),
        Figure(
            "list_draft_p50",
            "GET /invoices?status=draft p50 x1",
            ms(api, 50),
            "ms",
            baseline="list_sql_p50",
        ),
        Figure(
            "list_sql_p99",
            "  its SQL alone (page of 50 + count), asyncpg, p99",
            ms(floor, 99),
            "ms",
            detail={"samples": len(floor)},
        ),
        Figure("list_sql_p50", "  its SQL alone p50", ms(floor, 50), "ms"),
    ]
