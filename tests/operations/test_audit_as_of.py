"""`audit replay --invoice ID --as-of TS`: an invoice as it stood at a moment, from its events
alone, with its payments, credited amounts and the credit notes issued against it up to then
(each with its refunds up to then), asked at the end of each step and just before the next."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from fastfaktura.domain.pricing import InvoiceLine
from tests.conftest import Account
from tests.helpers import run_cli
from tests.invoicing_support import invoice_for

LINES = [{"description": "Audit", "quantity": 1, "unit_price_cents": 10000, "tax_rate": 20}]
MICROSECOND = timedelta(microseconds=1)


def _as_of(database_url: str, invoice_id: UUID, moment: datetime) -> dict[str, Any]:
    done = run_cli(
        database_url,
        "audit",
        "replay",
        "--invoice",
        str(invoice_id),
        "--as-of",
        moment.isoformat(),
        "--json",
    )
    assert done.returncode == 0, (done.stdout, done.stderr)
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def _times(invoicing: Invoicing, *ids: UUID) -> list[datetime]:
    return sorted(e.timestamp for i in ids for e in invoicing.events.get(i))


async def test_an_invoice_as_it_stood_between_payments_and_credit_notes(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    invoice = await invoice_for(client, account, invoicing, database_url, lines=LINES)
    invoice_id, business = UUID(invoice["id"]), account.business_id
    notes: list[UUID] = []
    # The (first, last) event time of each step.
    steps: list[tuple[datetime, datetime]] = []

    def step(action: Any) -> None:
        before = set(_times(invoicing, invoice_id, *notes))
        action()
        new = [t for t in _times(invoicing, invoice_id, *notes) if t not in before]
        steps.append((min(new), max(new)))

    def credit(cents: int | None) -> None:
        lines = None if cents is None else [InvoiceLine("Credit", Decimal(1), cents, Decimal(20))]
        note = invoicing.issue_credit_note(business, invoice_id, reason="audit", lines=lines)
        notes.append(note.value.id)

    def pay(cents: int) -> None:
        invoicing.record_payment(business, invoice_id, amount_cents=cents, method="transfer")

    sent = _times(invoicing, invoice_id)  # created and sent by invoice_for
    steps.append((sent[0], sent[-1]))
    step(lambda: pay(3000))
    step(lambda: credit(5000))  # 6000 with VAT
    step(lambda: pay(3000))  # 6000 paid + 6000 credited: paid
    step(lambda: credit(None))  # the other 6000: paid beyond what is left, 6000 to refund
    step(lambda: invoicing.record_refund(business, notes[1], amount_cents=2000, method="transfer"))
    # status, paid, credited, due; then each credit note's (total, refund_due, refunded)
    expected: list[tuple[str, int, int, int, list[tuple[int, int, int]]]] = [
        ("sent", 0, 0, 12000, []),
        ("sent", 3000, 0, 9000, []),
        ("sent", 3000, 6000, 3000, [(6000, 0, 0)]),
        ("paid", 6000, 6000, 0, [(6000, 0, 0)]),
        ("paid", 6000, 12000, 0, [(6000, 0, 0), (6000, 6000, 0)]),
        ("paid", 6000, 12000, 0, [(6000, 0, 0), (6000, 4000, 2000)]),
    ]
    moments = [(end, index) for index, (_, end) in enumerate(steps)]
    moments += [(start - MICROSECOND, index - 1) for index, (start, _) in enumerate(steps) if index]
    for moment, index in sorted(moments):
        report = _as_of(database_url, invoice_id, moment)
        assert datetime.fromisoformat(report["as_of"]) == moment
        [state] = [s for s in report["states"] if s["table"] == "rm_invoices"]
        shown = (
            state["status"],
            state["amount_paid_cents"],
            state["amount_credited_cents"],
            state["amount_due_cents"],
            [
                (s["total_cents"], s["refund_due_cents"], s["refunded_cents"])
                for s in report["states"]
                if s["table"] == "rm_credit_notes"
            ],
        )
        assert shown == expected[index], (moment, index)
        credit_notes = [s for s in report["states"] if s["table"] == "rm_credit_notes"]
        assert [UUID(s["id"]) for s in credit_notes] == notes[: len(credit_notes)]
        assert all(UUID(s["invoice_id"]) == invoice_id for s in credit_notes)
