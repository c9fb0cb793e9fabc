"""Invoice scenarios: POST /api/v1/invoices under load on the main server, and GET by id under
load against a bare Litestar + asyncpg app selecting the same row (bare_app.py). The GET is
measured on a `serve` of its own with the per-key rate limit on, as in production (the main
server runs without limits, environment.cli_env).

The list (GET /api/v1/invoices?status=) needs a large store: it is in store.py.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import urllib.request
from collections.abc import Sequence

import msgspec

from tests.bench import http
from tests.bench.environment import HOST, CpuMeter, HttpProcess, free_port
from tests.bench.figures import Figure, Goal
from tests.bench.registry import Bench, scenario
from tests.bench.scenarios import (
    CLIENTS,
    LoadResult,
    Op,
    _client_body,
    _connection,
    _errors_note,
    closed_loop,
)

INVOICES = "/api/v1/invoices"
ID_POOL = 200  # invoices GET by id rotates over
# The per-key limit on, but never refusing: each request does the production work (its token
# taken in the authenticating statement, the RateLimit-* headers) without 429s, though the bench
# sends thousands of requests per second on one key (the defaults allow 100).
LIMIT_ON_NEVER_REFUSED = {
    "FASTFAKTURA_RATE_LIMIT_KEY_PER_SECOND": "1000000000",
    "FASTFAKTURA_RATE_LIMIT_KEY_BURST": "1000000000",
}
CREATED = "invoices_created"  # bench.shared: invoices created so far for the main business


async def serve_limited(bench: Bench, name: str, port: int, log: str) -> HttpProcess:
    """A `serve --no-projections` on the main database with the per-key limit on and never
    refusing (the main server runs the projections; a GET load leaves them idle)."""
    env = bench.env
    return await asyncio.to_thread(
        env.serve,
        name,
        env.database_url,
        port,
        env.workdir / f"{log}_server.log",
        LIMIT_ON_NEVER_REFUSED,
        ["--no-projections"],
    )


def _count_created(bench: Bench, n: int) -> int:
    """Add n to the invoices of the main business this run; returns the new total."""
    so_far = bench.shared.get(CREATED, 0)
    assert isinstance(so_far, int)
    bench.shared[CREATED] = so_far + n
    return so_far + n


async def _new_client(bench: Bench) -> str:
    async with _connection(bench) as conn:
        response = await conn.request("POST", CLIENTS, _client_body(999_999))
    if response.status != 201:
        raise RuntimeError(f"POST {CLIENTS}: HTTP {response.status} {response.body[:300]!r}")
    client_id: str = msgspec.json.decode(response.body)["id"]
    return client_id


def invoice_body(client_id: str) -> bytes:
    """An invoice of 3 lines: two VAT rates, a fractional quantity and a discount line."""
    return json.dumps(
        {
            "client_id": client_id,
            "currency": "EUR",
            "notes": "Bench invoice",
            "lines": [
                {
                    "description": "Consulting",
                    "quantity": "1.5",
                    "unit_price_cents": 12000,
                    "tax_rate": "20",
                },
                {
                    "description": "Travel",
                    "quantity": "1",
                    "unit_price_cents": 4550,
                    "tax_rate": "10",
                },
                {
                    "description": "Loyalty discount",
                    "quantity": "1",
                    "unit_price_cents": -1000,
                    "tax_rate": "20",
                },
            ],
        }
    ).encode()


async def _load(
    bench: Bench, connections: Sequence[http.Connection], ops: list[Op], meter: CpuMeter
) -> LoadResult:
    """One closed-loop window over these connections (opened first, closed after)."""
    await asyncio.gather(*(c.open() for c in connections))
    try:
        return await closed_loop(ops, bench.settings.warmup, bench.settings.duration, meter)
    finally:
        await asyncio.gather(*(c.close() for c in connections))


# -- 1. POST /api/v1/invoices (3 lines) under N connections ---------------------------------------


@scenario("invoices_post_load", "POST /api/v1/invoices (3 lines), N keep-alive connections")
async def invoices_post_load(bench: Bench) -> list[Figure]:
    s = bench.settings
    n = s.connections
    bench.client("HTTP load", http.DESCRIPTION)
    body = invoice_body(await _new_client(bench))
    connections = [_connection(bench) for _ in range(n)]
    before = _count_created(bench, 0)
    created = 0

    def op(conn: http.Connection) -> Op:
        request = conn.prepare("POST", INVOICES, body)

        async def post() -> str | None:
            nonlocal created
            response = await conn.send(request)
            if response.status != 201:
                return f"HTTP {response.status}"
            created += 1
            return None

        return post

    name = f"POST /invoices x{n}"
    result = await _load(
        bench, connections, [op(c) for c in connections], bench.env.cpu_meter(name)
    )
    bench.cpu.append(result.cpu)
    _errors_note(bench, "POST /api/v1/invoices", result)
    after = _count_created(bench, created)
    # Every creation loads the business's numbering series (one event per invoice this year):
    # the rate depends on how long that series is, so say it.
    bench.notes.append(
        f"POST /api/v1/invoices: the business's series held about"
        f" {after - result.completed:,} invoices when the window opened, {after:,} at its end"
        f" ({before:,} before the warm-up)"
    )
    return [
        Figure(
            "invoices_post_rate",
            f"POST /api/v1/invoices (3 lines) x{n}, one business",
            result.rate,
            "req/s",
            baseline="append_ceiling_rate",
            goal=Goal("ratio", ">=", 0.4),  # issue 12
            detail={
                "completed": result.completed,
                "seconds": result.seconds,
                "series_before": before,
                "series_after": after,
            },
        ),
        Figure(
            "invoices_post_p50",
            f"POST /api/v1/invoices x{n} latency p50",
            result.p(50),
            "ms",
            baseline="append_ceiling_p50",
        ),
        Figure(
            "invoices_post_p99",
            f"POST /api/v1/invoices x{n} latency p99",
            result.p(99),
            "ms",
            baseline="append_ceiling_p99",
        ),
    ]


# -- 2. GET /api/v1/invoices/{id} vs a bare Litestar + asyncpg select of the same row ------------


async def _create_invoices(bench: Bench, count: int) -> list[str]:
    body = invoice_body(await _new_client(bench))
    ids: list[str] = []
    failures: list[str] = []

    async def worker(quota: int) -> None:
        async with _connection(bench) as conn:
            request = conn.prepare("POST", INVOICES, body)
            for _ in range(quota):
                response = await conn.send(request)
                if response.status == 201:
                    ids.append(msgspec.json.decode(response.body)["id"])
                else:
                    failures.append(f"HTTP {response.status} {response.body[:200]!r}")

    workers = 8
    await asyncio.gather(
        *(worker(count // workers + (i < count % workers)) for i in range(workers))
    )
    _count_created(bench, len(ids))
    if failures or len(ids) != count:
        raise RuntimeError(f"creating {count} invoices: {len(ids)} made; {failures[:3]}")
    return ids


def _rotating_gets(conn: http.Connection, paths: list[str], start: int, expect: bytes) -> Op:
    """GET the paths in turn (each connection from its own offset); 200 with the id expected."""
    requests = [conn.prepare("GET", path) for path in paths]
    ids = [path.rsplit("/", 1)[-1].split("?")[0].encode() for path in paths]
    turn = itertools.cycle(range(len(requests)))
    for _ in range(start % len(requests)):
        next(turn)

    async def get() -> str | None:
        i = next(turn)
        response = await conn.send(requests[i])
        if response.status != 200:
            return f"HTTP {response.status}"
        # The body must hold that invoice (cheap: a substring test, not a JSON decode).
        return None if ids[i] in response.body and expect in response.body else "wrong body"

    return get


def _check_limited(port: int, path: str, headers: dict[str, str]) -> None:
    """The server under test enforces the per-key limit: its answers carry the key's quota."""
    request = urllib.request.Request(f"http://{HOST}:{port}{path}", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        limit = response.headers.get("RateLimit-Limit")
    expected = LIMIT_ON_NEVER_REFUSED["FASTFAKTURA_RATE_LIMIT_KEY_BURST"]
    if limit != expected:
        raise RuntimeError(f"GET {path}: RateLimit-Limit {limit!r}, not {expected}: limit off?")


@scenario(
    "invoices_get_load",
    "GET /api/v1/invoices/{id} over 200 ids, N connections; then the bare Litestar baseline",
)
async def invoices_get_load(bench: Bench) -> list[Figure]:
    s = bench.settings
    n = s.connections
    env = bench.env
    business = env.account.business_id
    ids = await _create_invoices(bench, ID_POOL)
    bench.say(f"{len(ids)} invoices created for the GET rotation")

    # The real API, with the per-key limit on (its projections run in the main server).
    port = free_port()
    limited = await serve_limited(bench, "fastfaktura serve (per-key limit on)", port, "get")
    try:
        headers = {"X-Api-Key": env.account.api_key}
        await asyncio.to_thread(_check_limited, port, f"{INVOICES}/{ids[0]}", headers)
        connections = [http.Connection(HOST, port, headers) for _ in range(n)]
        paths = [f"{INVOICES}/{i}" for i in ids]
        ops = [_rotating_gets(c, paths, k * 13, b'"lines"') for k, c in enumerate(connections)]
        name = f"GET /invoices/{{id}} x{n}"
        bench.client(name, http.DESCRIPTION)
        meter = env.cpu_meter(name, limited, "the server (per-key limit on)")
        api = await _load(bench, connections, ops, meter)
    finally:
        await asyncio.to_thread(limited.stop)
    bench.cpu.append(api.cpu)
    _errors_note(bench, "GET /api/v1/invoices/{id}", api)

    # The bare app: same kind of process, same database, same rows.
    port = free_port()
    bare = HttpProcess(
        "bare Litestar app",
        [sys.executable, "-m", "tests.bench.bare_app", "--host", HOST, "--port", str(port)],
        env.cli_env(env.database_url),
        port,
        env.workdir / "bare_app.log",
    )
    env.defer(bare.stop)
    await asyncio.to_thread(bare.start, 60)
    try:
        bare_connections = [http.Connection(HOST, port) for _ in range(n)]
        bare_paths = [f"/invoices/{i}?business_id={business}" for i in ids]
        bare_ops = [
            _rotating_gets(c, bare_paths, k * 13, b'"lines"')
            for k, c in enumerate(bare_connections)
        ]
        bare_name = f"bare GET /invoices/{{id}} x{n}"
        bench.client(bare_name, http.DESCRIPTION)
        baseline = await _load(
            bench,
            bare_connections,
            bare_ops,
            env.cpu_meter(bare_name, bare, "the bare app"),
        )
    finally:
        await asyncio.to_thread(bare.stop)
    bench.cpu.append(baseline.cpu)
    _errors_note(bench, "bare GET /invoices/{id}", baseline)
    return [
        Figure(
            "invoices_get_rate",
            f"GET /api/v1/invoices/{{id}} x{n} (200 ids, per-key limit on)",
            api.rate,
            "req/s",
            baseline="bare_get_rate",
            goal=Goal("ratio", ">=", 0.7),
            detail={"completed": api.completed, "seconds": api.seconds, "ids": len(ids)},
        ),
        Figure(
            "invoices_get_p50",
            f"GET /api/v1/invoices/{{id}} x{n} latency p50",
            api.p(50),
            "ms",
            baseline="bare_get_p50",
        ),
        Figure(
            "invoices_get_p99",
            f"GET /api/v1/invoices/{{id}} x{n} latency p99",
            api.p(99),
            "ms",
            baseline="bare_get_p99",
        ),
        Figure(
            "bare_get_rate",
            f"bare Litestar+asyncpg PK select, as JSON x{n}",
            baseline.rate,
            "req/s",
            detail={"completed": baseline.completed, "seconds": baseline.seconds},
        ),
        Figure("bare_get_p50", f"bare GET x{n} latency p50", baseline.p(50), "ms"),
        Figure("bare_get_p99", f"bare GET x{n} latency p99", baseline.p(99), "ms"),
    ]
