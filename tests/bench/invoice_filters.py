"""GET /api/v1/invoices with filters (client_id, number, q, date ranges, combined with status)
on a business of 30,000 invoices, against the same statements sent by asyncpg alone.

The business lives on a cluster of its own: `accounts create` makes it (and its key), and its
30,000 `rm_invoices` rows are written straight into the read model (the list reads nothing
else), spread over 60 clients, two years of issue dates and every status; three other
businesses hold 10,000 each, so every filter has to pick one business's rows out of others'.
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import time
from datetime import date
from typing import Any
from urllib.parse import urlencode
from uuid import UUID, uuid4

import asyncpg
import msgspec
import psycopg

from tests.bench import http
from tests.bench.environment import HOST, fastfaktura_command, free_port
from tests.bench.figures import Figure, Goal, percentile
from tests.bench.registry import Bench, Settings, scenario
from tests.bench.store import _interleaved

MS = 1000.0
INVOICES = 30_000
OTHERS = 3
CLIENT = UUID(int=7)

FILL = """
INSERT INTO rm_invoices (business_id, id, number, client_id, currency, status, issue_date,
    due_date, subtotal_cents, tax_cents, total_cents, amount_paid_cents, amount_due_cents, lines,
    tax_breakdown, seller, buyer, public_token, version, created_at, updated_at,
    payment_reference)
SELECT %(business)s, gen_random_uuid(), 'F' || (2024 + g / 15000) || '-' || lpad(g::text, 5, '0'),
    ('00000000-0000-0000-0000-' || lpad(to_hex(g %% 60), 12, '0'))::uuid, 'EUR',
    (ARRAY['draft', 'sent', 'opened', 'paid', 'overdue', 'cancelled'])[1 + g %% 6],
    date '2024-01-01' + g / 40, date '2024-01-01' + g / 40 + 30,
    10000, 2000, 12000, 0, 12000,
    '[{"description": "Consulting", "quantity": "1", "unit_price_cents": 10000,
       "tax_rate": "20", "net_cents": 10000}]',
    '[{"rate": "20", "base_cents": 10000, "tax_cents": 2000}]',
    %(seller)s,
    jsonb_build_object('id', ('00000000-0000-0000-0000-' || lpad(to_hex(g %% 60), 12, '0')),
        'name', 'Client ' || (g %% 60) || ' ' || md5(g::text), 'email', NULL, 'phone', NULL,
        'address', NULL, 'country', 'FR', 'vat_number', NULL, 'company_id', NULL, 'locale', 'fr'),
    md5(%(business)s::text || g), 1,
    timestamptz '2024-01-01' + g * interval '20 minutes', now(),
    'RF' || lpad((g %% 97)::text, 2, '0') || g  -- shaped like one; never checked by the list
FROM generate_series(1, %(count)s) g
"""
SELLER = {
    "name": "Bench",
    "legal_name": None,
    "email": None,
    "phone": None,
    "address": None,
    "country": "FR",
    "vat_number": None,
    "company_id": None,
    "iban": None,
    "bic": None,
}

# The filtered lists measured, in turn: each filter alone, then combined with status.
QUERIES: list[dict[str, str]] = [
    {"client_id": str(CLIENT)},
    {"number": "F2024-00042"},
    {"q": "client 7 "},
    {"q": "f2025-2999"},
    {"issue_date_from": "2024-03-01", "issue_date_to": "2024-03-31"},
    {"due_date_from": "2025-05-01", "due_date_to": "2025-05-15"},
    {"status": "sent", "client_id": str(CLIENT), "issue_date_from": "2024-06-01"},
    {"status": "sent", "q": "client 1", "due_date_to": "2024-12-31"},
]


def _bound(settings: Settings) -> float:
    return 300.0 + settings.list_samples * len(QUERIES) * 0.2


def _fill(url: str, business: UUID) -> None:
    seller = json.dumps(SELLER)
    with psycopg.connect(url) as conn:
        conn.execute(FILL, {"business": business, "count": INVOICES, "seller": seller})
        for _ in range(OTHERS):
            conn.execute(FILL, {"business": uuid4(), "count": INVOICES // 3, "seller": seller})
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) rm_invoices")


def _filters(query: dict[str, str]) -> Any:
    from fastfaktura.readmodels.queries.invoices import InvoiceFilters

    typed: dict[str, Any] = dict(query)
    for key, value in query.items():
        if key.endswith(("_from", "_to")):
            typed[key] = date.fromisoformat(value)
        elif key == "client_id":
            typed[key] = UUID(value)
    return InvoiceFilters(**typed)


@scenario(
    "invoices_list_filtered",
    f"GET /api/v1/invoices with filters, a business of {INVOICES:,} invoices, sequential",
    timeout=_bound,
)
async def invoices_list_filtered(bench: Bench) -> list[Figure]:
    from fastfaktura.readmodels.queries.invoices import filtered_where, page_statements

    env = bench.env
    cluster = await asyncio.to_thread(env.start_cluster, "filters")
    created = await asyncio.to_thread(
        subprocess.run,
        [*fastfaktura_command(), "accounts", "create", "--name", "Filters", "--json"],
        env=env.cli_env(cluster.url),
        capture_output=True,
        check=False,
        timeout=120,
    )
    if created.returncode != 0:
        raise RuntimeError(f"accounts create failed: {created.stderr.decode()[-2000:]}")
    issued = json.loads(created.stdout.decode().strip().splitlines()[-1])
    business = issued["business_id"]
    bench.say(f"{INVOICES:,} rm_invoices rows (and {OTHERS} other businesses) ...")
    started = time.perf_counter()
    await asyncio.to_thread(_fill, cluster.url, UUID(business))
    fill_seconds = time.perf_counter() - started
    port = free_port()
    server = await asyncio.to_thread(
        env.serve, "fastfaktura serve (filters)", cluster.url, port, env.workdir / "filters.log"
    )
    samples = bench.settings.list_samples
    try:
        async with http.Connection(HOST, port, {"X-Api-Key": issued["api_key"]}) as conn:
            db = await asyncpg.connect(cluster.url)
            try:
                gets, selects = [], []
                for query in QUERIES:
                    path = f"/api/v1/invoices?{urlencode(query)}"
                    where = filtered_where(UUID(business), _filters(query))
                    page_sql, count_sql, page_args = page_statements(where, page=1, per_page=50)
                    expected = await db.fetchval(count_sql, *where.args)
                    first = await conn.request("GET", path)
                    page = msgspec.json.decode(first.body) if first.status == 200 else {}
                    if first.status != 200 or page["total"] != expected or not expected:
                        raise RuntimeError(
                            f"GET {path}: HTTP {first.status}, total {page.get('total')};"
                            f" its SQL counts {expected}"
                        )
                    gets.append(conn.prepare("GET", path))
                    selects.append((page_sql, page_args, count_sql, where.args))

                turn = {"get": 0, "select": 0}

                async def get() -> str | None:
                    request = gets[turn["get"] % len(gets)]
                    turn["get"] += 1
                    response = await conn.send(request)
                    return None if response.status == 200 else f"HTTP {response.status}"

                async def select() -> str | None:
                    page_sql, page_args, count_sql, count_args = selects[
                        turn["select"] % len(selects)
                    ]
                    turn["select"] += 1
                    await db.fetch(page_sql, *page_args)
                    await db.fetchval(count_sql, *count_args)
                    return None

                (api, api_errors), (floor, floor_errors) = await _interleaved(
                    [get, select], max(16, samples // 10), samples * len(QUERIES), 240
                )  # warmup: the same expression as `warmup` below
            finally:
                await db.close()
    finally:
        await asyncio.to_thread(server.stop)
    for what, errors in (("filtered GETs", api_errors), ("their SQL", floor_errors)):
        if errors:
            listed = ", ".join(f"{k} x{v}" for k, v in errors.most_common())
            bench.notes.append(f"{what}: failures (not counted): {listed}")
    bench.client("filtered GETs", http.DESCRIPTION + ", one request at a time")
    bench.client("their SQL", "asyncpg, one connection, alternating with the GETs")

    def ms(values: list[float], q: float) -> float:
        return percentile(values, q) * MS if values else math.nan

    warmup = max(16, samples // 10)
    if not api_errors and not floor_errors:
        # Both ops rotate over QUERIES in lockstep, one sample per round: round r is query r % n.
        per_query = []
        for k, query in enumerate(QUERIES):
            mine = [v for j, v in enumerate(api) if (warmup + j) % len(QUERIES) == k]
            theirs = [v for j, v in enumerate(floor) if (warmup + j) % len(QUERIES) == k]
            per_query.append(
                f"{urlencode(query)}: p50 {ms(mine, 50):.1f} / SQL {ms(theirs, 50):.1f} ms,"
                f" p99 {ms(mine, 99):.1f} / SQL {ms(theirs, 99):.1f} ms"
            )
        bench.notes.append("Per filter: " + "; ".join(per_query))
    shown = ", ".join(urlencode(q) for q in QUERIES)
    bench.notes.append(
        f"Filtered lists: {len(QUERIES)} queries in turn ({shown})"
        f" on a business of {INVOICES:,} rm_invoices rows written in {fill_seconds:.1f} s,"
        f" then VACUUM (ANALYZE)."
    )
    return [
        Figure(
            "list_filtered_p99",
            f"GET /invoices?<filters> p99 x1, a business of {INVOICES:,} invoices",
            ms(api, 99),
            "ms",
            baseline="list_filtered_sql_p99",
            goal=Goal("ratio", "<=", 1.5),
            detail={"samples": len(api), "queries": QUERIES},
        ),
        Figure("list_filtered_p50", "GET /invoices?<filters> p50 x1", ms(api, 50), "ms"),
        Figure(
            "list_filtered_sql_p99",
            "  their SQL alone (page of 50 + count), asyncpg, p99",
            ms(floor, 99),
            "ms",
            detail={"samples": len(floor)},
        ),
        Figure("list_filtered_sql_p50", "  their SQL alone p50", ms(floor, 50), "ms"),
    ]
