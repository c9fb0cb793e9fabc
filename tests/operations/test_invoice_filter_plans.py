"""Each list filter is served by an index (migration 0019), on a business of 30,000 invoices
among others': EXPLAIN of the statements the query gateway composes, as the API sends them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import psycopg
import pytest

from fastfaktura.readmodels.queries.invoices import (
    InvoiceFilters,
    filtered_where,
    page_statements,
)
from tests.helpers import drop_database, fresh_database

BUSINESS = uuid4()
CLIENT = UUID(int=7)
INVOICES = 30_000
OTHERS = 3  # other businesses, 10,000 invoices each

# Rows as the projection writes them, minus what no filter reads (jsonb kept small).
FILL = """
INSERT INTO rm_invoices (business_id, id, number, client_id, currency, status, issue_date,
    due_date, subtotal_cents, tax_cents, total_cents, amount_paid_cents, amount_due_cents, lines,
    tax_breakdown, seller, buyer, public_token, version, created_at, updated_at)
SELECT %(business)s, gen_random_uuid(), 'F' || (2024 + g / 15000) || '-' || lpad(g::text, 5, '0'),
    ('00000000-0000-0000-0000-' || lpad(to_hex(g %% 60), 12, '0'))::uuid, 'EUR',
    (ARRAY['draft', 'sent', 'opened', 'paid', 'overdue', 'cancelled'])[1 + g %% 6],
    date '2024-01-01' + g / 40, date '2024-01-01' + g / 40 + 30,
    10000, 2000, 12000, 0, 12000, '[]', '[]', '{}',
    jsonb_build_object('name', 'Client ' || (g %% 60) || ' ' || md5(g::text)),
    md5(%(business)s::text || g), 1,
    timestamptz '2024-01-01' + g * interval '20 minutes', now()
FROM generate_series(1, %(count)s) g
"""


@pytest.fixture(scope="module")
def big_book(database_url: str) -> Iterator[str]:
    url = fresh_database(database_url, "plans")
    try:
        with psycopg.connect(url) as conn:
            conn.execute(FILL, {"business": BUSINESS, "count": INVOICES})
            for _ in range(OTHERS):
                conn.execute(FILL, {"business": uuid4(), "count": INVOICES // 3})
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE) rm_invoices")
        yield url
    finally:
        drop_database(database_url, url)


@pytest.fixture
async def db(big_book: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(big_book)
    try:
        yield conn
    finally:
        await conn.close()


def _scans(plan: dict[str, Any]) -> list[tuple[str, str | None]]:
    """Every scan node of a plan: (node type, index name)."""
    found = []
    if "Scan" in plan["Node Type"]:
        found.append((plan["Node Type"], plan.get("Index Name")))
    for child in plan.get("Plans", []):
        found.extend(_scans(child))
    return found


async def _plan(db: asyncpg.Connection, sql: str, args: list[Any]) -> list[tuple[str, str | None]]:
    text = await db.fetchval("EXPLAIN (FORMAT JSON) " + sql, *args)
    return _scans(json.loads(text)[0]["Plan"])


FILTERS = {
    "client_id": (InvoiceFilters(client_id=CLIENT), "rm_invoices_client_order"),
    "number": (InvoiceFilters(number="F2024-00042"), "rm_invoices_number"),
    "issue_date": (
        InvoiceFilters(issue_date_from=date(2024, 3, 1), issue_date_to=date(2024, 3, 31)),
        "rm_invoices_issue_date",
    ),
    "due_date": (
        InvoiceFilters(due_date_from=date(2024, 5, 1), due_date_to=date(2024, 5, 15)),
        "rm_invoices_due_date",
    ),
}


@pytest.mark.parametrize("name", list(FILTERS))
async def test_each_filter_uses_its_index(db: asyncpg.Connection, name: str) -> None:
    filters, index = FILTERS[name]
    where = filtered_where(BUSINESS, filters)
    page_sql, count_sql, args = page_statements(where, page=1, per_page=50)
    for sql, params in ((page_sql, args), (count_sql, where.args)):
        scans = await _plan(db, sql, params)
        assert all(kind != "Seq Scan" for kind, _ in scans), scans
        assert index in {used for _, used in scans}, (sql, scans)
    total = await db.fetchval(count_sql, *where.args)
    assert 0 < total < INVOICES  # a real selection, not the whole business


async def test_the_page_of_a_search_reads_the_list_index(db: asyncpg.Connection) -> None:
    """`q` (a substring, any case) has no index of its own: the embedded PostgreSQL ships no
    pg_trgm. Its page walks the business's newest-first index and stops at the page's end."""
    where = filtered_where(BUSINESS, InvoiceFilters(q="client 7 "))
    page_sql, _, args = page_statements(where, page=1, per_page=50)
    scans = await _plan(db, page_sql, args)
    assert all(kind != "Seq Scan" for kind, _ in scans), scans
    assert {used for _, used in scans} & {
        "rm_invoices_business_id_created_at_id_idx",
        "rm_invoices_business_id_status_created_at_id_idx",
    }, scans


async def test_combined_filters_avoid_a_sequential_scan(db: asyncpg.Connection) -> None:
    filters = InvoiceFilters(
        status="paid",
        client_id=CLIENT,
        q="client",
        issue_date_from=date(2024, 2, 1),
        issue_date_to=date(2024, 12, 31),
    )
    where = filtered_where(BUSINESS, filters)
    page_sql, count_sql, args = page_statements(where, page=2, per_page=20)
    for sql, params in ((page_sql, args), (count_sql, where.args)):
        scans = await _plan(db, sql, params)
        assert scans
        assert all(kind != "Seq Scan" for kind, _ in scans), scans
