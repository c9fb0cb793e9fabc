"""Invoices whose events were stored before the e-invoicing fields (no `terms`, lines without a
VAT category): the aggregate derives their payment reference and categories on replay; migration
0025 fills the rows already projected the same way, so `audit replay` agrees at once; a rebuild
changes no answer."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from fastfaktura.domain.invoice import Invoice
from fastfaktura.domain.payment_reference import payment_reference
from fastfaktura.event_reader import event_reader
from fastfaktura.readmodels.audit import compare
from fastfaktura.readmodels.models import InvoicesReadModel
from fastfaktura.readmodels.rebuild import rebuild
from tests.conftest import Account
from tests.helpers import run_cli, settle
from tests.invoicing_support import INVOICES, create_client, get_json

MIGRATION = Path(__file__).parents[2] / "migrations" / "0025_e_invoicing_fields.sql"
PARTY = {"email": None, "phone": None, "address": None, "vat_number": None, "company_id": None}


def legacy_invoice(business: UUID, buyer: dict[str, Any], country: str, number: str) -> Invoice:
    """An invoice recorded as the code before 0025 recorded it: no terms, uncategorised lines."""
    return Invoice(  # type: ignore[call-arg]
        business_id=business,
        client_id=UUID(buyer["id"]),
        number=number,
        currency="EUR",
        issue_date="2025-03-01",
        due_date="2025-03-31",
        notes=None,
        lines=[
            {
                "description": "Work",
                "quantity": 1,
                "unit_price_cents": 10000,
                "tax_rate": 20,
                "net_cents": 10000,
            },
            {
                "description": "Parts",
                "quantity": 2,
                "unit_price_cents": 500,
                "tax_rate": 0,
                "net_cents": 1000,
            },
        ],
        subtotal_cents=11000,
        tax_cents=2000,
        total_cents=13000,
        tax_breakdown=[
            {"rate": 20, "base_cents": 10000, "tax_cents": 2000},
            {"rate": 0, "base_cents": 1000, "tax_cents": 0},
        ],
        public_token=secrets.token_urlsafe(24),
        seller={
            **PARTY,
            "name": "Old Seller",
            "legal_name": None,
            "country": country,
            "iban": None,
            "bic": None,
        },
        buyer={**PARTY, "id": buyer["id"], "name": buyer["name"], "country": "US", "locale": "en"},
    )


def backfill_statements() -> str:
    """Migration 0025's part that fills the rows already projected (its columns exist here)."""
    text = MIGRATION.read_text()
    start = text.index("CREATE FUNCTION pg_temp.ff_luhn")
    end = text.index("CREATE INDEX rm_invoices_payment_reference")
    return text[start:end]


def as_before_0025(database_url: str, invoice_ids: list[str]) -> None:
    """The rows as a server before 0025 left them once the migration added its columns."""
    strip = "jsonb_agg(x - 'vat_category' - 'vat_exemption_code' - 'vat_exemption_reason')"
    with psycopg.connect(database_url) as conn:
        conn.execute(
            f"UPDATE rm_invoices SET payment_reference = NULL, operation_category = 'services',"
            f" lines = (SELECT {strip} FROM jsonb_array_elements(lines) AS x),"
            f" tax_breakdown = (SELECT {strip} FROM jsonb_array_elements(tax_breakdown) AS x)"
            f" WHERE id = ANY(%s)",
            ([UUID(i) for i in invoice_ids],),
        )


async def test_older_events_get_references_and_categories_and_the_audit_agrees(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    made: list[tuple[Account, str, str]] = []
    for country, number, year, sequence in (
        ("SE", "F2025-00007", 2025, 7),
        ("NO", "FAKT2025-123456", 2025, 123456),
        ("FR", "F-2025-00042", 2025, 42),
    ):
        account = new_account(f"Legacy {country}", country=country)
        buyer = await create_client(client, account, "Far Away Inc", country="US")
        invoice = legacy_invoice(account.business_id, buyer, country, number)
        invoicing.save(invoice)
        made.append((account, str(invoice.id), payment_reference(year, sequence, country)))
    settle(database_url)
    with psycopg.connect(database_url) as conn:
        state = conn.execute(
            "SELECT state FROM invoicing_events"
            " WHERE originator_id = %s AND originator_version = 1",
            (UUID(made[0][1]),),
        ).fetchone()
    assert state is not None
    assert b"vat_category" not in bytes(state[0])
    assert b"payment_reference" not in bytes(state[0])

    answers = {}
    for account, invoice_id, reference in made:
        answer = await get_json(client, account, f"{INVOICES}/{invoice_id}")
        assert answer["payment_reference"] == reference
        assert [line["vat_category"] for line in answer["lines"]] == ["S", "G"]
        assert answer["operation_category"] == "services"
        answers[invoice_id] = answer

    model = InvoicesReadModel()
    as_before_0025(database_url, list(answers))
    stale = compare(
        event_reader(invoicing), database_url, model, business_id=made[0][0].business_id
    )
    assert {d.key["id"] for d in stale} == {made[0][1]}  # the audit sees the old row
    with psycopg.connect(database_url) as conn:
        conn.execute(backfill_statements())
    for account, invoice_id, _ in made:
        assert (
            compare(event_reader(invoicing), database_url, model, business_id=account.business_id)
            == []
        )
        done = run_cli(database_url, "audit", "replay", "--business", str(account.business_id))
        assert done.returncode == 0, done.stdout + done.stderr
        again = await get_json(client, account, f"{INVOICES}/{invoice_id}")
        assert again == answers[invoice_id]

    rebuild(event_reader(invoicing), database_url, model)
    for account, invoice_id, _ in made:
        assert await get_json(client, account, f"{INVOICES}/{invoice_id}") == answers[invoice_id]
    assert compare(event_reader(invoicing), database_url, model) == []
