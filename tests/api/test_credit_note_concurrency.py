"""Concurrent credit notes: never above what is left to credit, numbered without gap or
duplicate, through one server and through several writers (processes) racing on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from decimal import Decimal
from typing import Any
from uuid import UUID

from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from fastfaktura.domain.errors import ConflictError, RulesBroken
from fastfaktura.domain.invoice import Invoice
from fastfaktura.domain.pricing import InvoiceLine
from tests.conftest import Account, invoicing_on
from tests.helpers import settle
from tests.invoicing_support import INVOICES, concurrently, get_json, invoice_for

CREDIT_NOTES = "/api/v1/credit_notes"
# 1,050.00 + 20 % = 1,260.00: ten credit notes of 120.00 fit, the eleventh does not (60.00 left).
INVOICE_LINES = [{"description": "Work", "quantity": 1, "unit_price_cents": 105000, "tax_rate": 20}]
CREDIT = {"description": "Credited", "quantity": 1, "unit_price_cents": 10000, "tax_rate": 20}


async def test_twenty_concurrent_credit_notes_never_over_credit_an_invoice(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    account = new_account("Concurrent Credits AS")
    invoice = await invoice_for(client, account, invoicing, database_url, lines=INVOICE_LINES)
    url = f"{INVOICES}/{invoice['id']}/credit_notes"
    responses = await concurrently(
        client,
        [
            (
                "POST",
                url,
                {"headers": account.headers, "json": {"reason": f"r{i}", "lines": [CREDIT]}},
            )
            for i in range(20)
        ],
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 10 + [422] * 10, [r.text for r in responses]
    assert all(
        [e["field"] for e in r.json()["errors"]] == ["lines"]
        for r in responses
        if r.status_code == 422
    )
    numbers = sorted(r.json()["number"] for r in responses if r.status_code == 201)
    year = invoice["issue_date"][:4]
    assert numbers == [f"A{year}-{n:05d}" for n in range(1, 11)]
    after = await get_json(client, account, f"{INVOICES}/{invoice['id']}")
    assert (after["amount_credited_cents"], after["amount_due_cents"]) == (120000, 6000)
    listed = await get_json(client, account, f"{CREDIT_NOTES}?invoice_id={invoice['id']}")
    assert sum(n["total_cents"] for n in listed["data"]) == 120000


def _issue(app: Invoicing, account: Account, invoice_id: UUID) -> str | None:
    """One credit note of 120.00 from `app`: its number, or None when refused."""
    try:
        line = InvoiceLine("Credited", Decimal(1), 10000, Decimal(20))
        return app.issue_credit_note(
            account.business_id, invoice_id, reason="race", lines=[line]
        ).value.number
    except (RulesBroken, ConflictError):
        return None


async def test_writers_in_several_processes_race_on_the_invoice_and_the_series(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    """Separate applications share no lock: they collide on the invoice's and the series'
    versions in PostgreSQL, and the losers decide again on what the winners stored."""
    account = new_account("Racing Writers AS")
    contested = await invoice_for(client, account, invoicing, database_url, lines=INVOICE_LINES)
    others = [
        await invoice_for(client, account, invoicing, database_url, lines=INVOICE_LINES)
        for _ in range(6)
    ]
    targets = [UUID(contested["id"])] * 20 + [UUID(o["id"]) for o in others]
    with ExitStack() as stack:
        apps = [stack.enter_context(invoicing_on(database_url)) for _ in range(4)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            numbers = list(
                pool.map(
                    lambda job: _issue(apps[job[0] % len(apps)], account, job[1]),
                    enumerate(targets),
                )
            )
        stored = apps[0].get(Invoice, UUID(contested["id"]), account.business_id)
    issued = sorted(n for n in numbers if n is not None)
    assert len(issued) == 10 + 6  # ten fit on the contested invoice, one on each other
    year = contested["issue_date"][:4]
    assert issued == [f"A{year}-{n:05d}" for n in range(1, 17)]
    assert (stored.amount_credited_cents, stored.amount_due_cents) == (120000, 6000)
    settle(database_url)
    listed = await get_json(client, account, f"{CREDIT_NOTES}?per_page=100")
    assert sorted(n["number"] for n in listed["data"]) == issued
