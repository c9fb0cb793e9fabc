"""What the rate limiter adds to a request (docs/operations.md "Rate limits").

The main server runs without limits (environment.cli_env). A second `fastfaktura serve
--no-projections` on the same database runs with the per-key limit on, so high that nothing is
refused: the same work per request as the defaults (one token taken in the authenticating
query), without 429s. Both answer GET /api/v1/business under N connections, in alternating
windows; then the two queries alone, one connection, one after the other.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import asyncpg

from tests.bench import http
from tests.bench.environment import HOST, free_port
from tests.bench.figures import Figure, percentile
from tests.bench.invoices import _load, serve_limited
from tests.bench.registry import Bench, scenario
from tests.bench.scenarios import MS, LoadResult, Op

BUSINESS = "/api/v1/business"
QUERY_SAMPLES = 3000
ROUNDS = 2  # windows per server, in turn


def _get_business(conn: http.Connection) -> Op:
    request = conn.prepare("GET", BUSINESS)

    async def get() -> str | None:
        response = await conn.send(request)
        return None if response.status == 200 else f"HTTP {response.status}"

    return get


async def _queries(bench: Bench) -> tuple[list[float], list[float]]:
    """Seconds per authenticating query, without and with the token, sequential."""
    from fastfaktura.api import ratelimit
    from fastfaktura.domain.api_key import hash_key
    from fastfaktura.readmodels.sql import statement

    key_hash = hash_key(bench.env.account.api_key)
    plain = statement("api_keys", "queries.sql", "authenticate")
    taking = ratelimit.authenticate_and_take_sql()
    conn = await asyncpg.connect(bench.env.database_url)
    try:
        timings: tuple[list[float], list[float]] = ([], [])
        for _ in range(QUERY_SAMPLES // 10):  # warm both statements' plans and caches
            await conn.fetchrow(plain, key_hash)
            await conn.fetchrow(taking, key_hash, 1e9, 1e9)
        for _ in range(QUERY_SAMPLES):  # interleaved: both see the same machine
            started = time.perf_counter()
            await conn.fetchrow(plain, key_hash)
            middle = time.perf_counter()
            assert await conn.fetchrow(taking, key_hash, 1e9, 1e9) is not None
            timings[0].append(middle - started)
            timings[1].append(time.perf_counter() - middle)
        return timings
    finally:
        await conn.close()


@dataclass
class Totals:
    """Windows of one server, added up."""

    completed: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # the server's and PostgreSQL's
    latencies: list[float] = field(default_factory=list)

    def add(self, result: LoadResult) -> None:
        self.completed += result.completed
        self.seconds += result.seconds
        self.cpu_seconds += (result.cpu.server + result.cpu.postgres) / 100 * result.cpu.seconds
        self.latencies.extend(result.latencies)

    @property
    def rate(self) -> float:
        return self.completed / self.seconds

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * MS

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu_seconds * MS / self.completed


@scenario(
    "rate_limit_overhead",
    "GET /api/v1/business, N connections, with the per-key limit on; its query alone",
)
async def rate_limit_overhead(bench: Bench) -> list[Figure]:
    env = bench.env
    n = bench.settings.connections
    headers = {"X-Api-Key": env.account.api_key}
    port = free_port()
    limited_server = await serve_limited(
        bench, "fastfaktura serve (rate limits on)", port, "limited"
    )
    plain, limited = Totals(), Totals()
    # Windows in turn (A B A B), so that a change in the machine's other load weighs on both.
    try:
        for round_ in range(ROUNDS):
            for totals, server, where in (
                (plain, None, env.port),
                (limited, limited_server, port),
            ):
                name = f"GET /business x{n}, {'limit on' if server else 'no limits'} ({round_ + 1})"
                bench.client(name, http.DESCRIPTION)
                meter = env.cpu_meter(
                    name, server, "the limited server" if server else "the server"
                )
                connections = [http.Connection(HOST, where, headers) for _ in range(n)]
                ops = [_get_business(c) for c in connections]
                result = await _load(bench, connections, ops, meter)
                bench.cpu.append(result.cpu)
                totals.add(result)
                if result.errors:
                    listed = ", ".join(f"{k} x{v}" for k, v in result.errors.most_common())
                    bench.notes.append(f"{name}: failures (not counted): {listed}")
    finally:
        await asyncio.to_thread(limited_server.stop)

    without, taking = await _queries(bench)
    return [
        Figure(
            "limited_business_rate",
            f"GET /business x{n}, per-key limit on",
            limited.rate,
            "req/s",
            baseline="plain_business_rate",
            detail={"completed": limited.completed, "seconds": limited.seconds},
        ),
        Figure(
            "limited_business_p50",
            f"GET /business x{n}, limit on, latency p50",
            limited.p(50),
            "ms",
            baseline="plain_business_p50",
        ),
        Figure(
            "limited_business_p99",
            f"GET /business x{n}, limit on, latency p99",
            limited.p(99),
            "ms",
            baseline="plain_business_p99",
        ),
        Figure(
            "limited_business_cpu",
            f"GET /business x{n}, limit on, server + PostgreSQL CPU per request",
            limited.cpu_ms_per_request,
            "ms",
            baseline="plain_business_cpu",
        ),
        Figure(
            "plain_business_rate",
            f"GET /business x{n}, no limits",
            plain.rate,
            "req/s",
            detail={"completed": plain.completed, "seconds": plain.seconds},
        ),
        Figure("plain_business_p50", f"GET /business x{n}, no limits, p50", plain.p(50), "ms"),
        Figure("plain_business_p99", f"GET /business x{n}, no limits, p99", plain.p(99), "ms"),
        Figure(
            "plain_business_cpu",
            f"GET /business x{n}, no limits, server + PostgreSQL CPU per request",
            plain.cpu_ms_per_request,
            "ms",
        ),
        Figure(
            "authenticate_and_take_p50",
            "authenticating query with the token, 1 connection, p50",
            percentile(taking, 50) * MS,
            "ms",
            baseline="authenticate_p50",
            detail={"samples": len(taking)},
        ),
        Figure(
            "authenticate_p50",
            "authenticating query alone, 1 connection, p50",
            percentile(without, 50) * MS,
            "ms",
            detail={"samples": len(without)},
        ),
    ]
