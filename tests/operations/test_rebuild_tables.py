"""A rebuild's swapped-in tables have the live tables' indexes and constraints, under the same
names (they are built on the filled fresh tables, then renamed at the swap)."""

from __future__ import annotations

import psycopg

from fastfaktura.application import Invoicing
from fastfaktura.event_reader import event_reader
from fastfaktura.readmodels.models import read_model
from fastfaktura.readmodels.rebuild import rebuild_many

MODELS = [read_model("invoices"), read_model("clients")]
TABLES = ["rm_invoices", "rm_invoice_responses", "rm_clients"]


def _indexes(url: str) -> set[tuple[str, ...]]:
    with psycopg.connect(url) as conn:
        indexes = conn.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)",
            (TABLES,),
        ).fetchall()
        constraints = conn.execute(
            "SELECT conrelid::regclass::text, conname, contype::text FROM pg_constraint"
            " WHERE conrelid::regclass::text = ANY(%s)",
            (TABLES,),
        ).fetchall()
    return {tuple(row) for row in [*indexes, *constraints]}


def test_rebuild_keeps_every_index_and_constraint_under_its_name(
    invoicing: Invoicing, database_url: str
) -> None:
    before = _indexes(database_url)
    assert len(before) > 10
    results = rebuild_many(event_reader(invoicing), database_url, MODELS)
    assert [r.name for r in results] == ["invoices", "clients"]
    assert _indexes(database_url) == before


def test_the_binary_copy_takes_ids_dates_and_amounts_a_row_holds_as_text(database_url: str) -> None:
    # The live path INSERTs text that PostgreSQL parses; the rebuild's binary COPY dumps each
    # value as its column's type, so a row's text ids (some aggregates keep them as text) must
    # be parsed first. A CI run failed on exactly that: 'str' object has no attribute 'int'.
    from fastfaktura.readmodels.backfill import copy_rows

    row = {
        "id": "a320b051-6a0d-46c7-93f1-43dcc237a6a7",
        "day": "2026-12-06",
        "at": "2026-12-06T09:43:40+00:00",
        "amount": "12.50",
        "name": "text stays text",
    }
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "CREATE TEMP TABLE copied (id uuid, day date, at timestamptz, amount numeric,"
            " name text)"
        )
        copy_rows(conn, MODELS[1], "copied", [row])
        got = conn.execute(
            "SELECT id::text, day::text, at = %s::timestamptz, amount::text, name FROM copied",
            (row["at"],),
        ).fetchone()
    assert got == (row["id"], row["day"], True, row["amount"], row["name"])
