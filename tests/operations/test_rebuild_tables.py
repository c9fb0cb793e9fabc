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
