"""Invoice.edit on the aggregate alone: only a draft is edited, and an edit is judged like a
creation (API.md "Drafts", "Lifecycle": once sent, lines, amounts and number never change)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from fastfaktura.domain.errors import DueDateBeforeIssueDate, NegativeTotal, RulesBroken
from fastfaktura.domain.invoice import Invoice, InvoiceLine, InvoiceStateError
from tests.unit.lifecycle_support import DUE, ISSUED, draft, in_status

LINES = [InvoiceLine("Audit", Decimal("2.5"), 3999, Decimal(20))]


def edit(invoice: Invoice, **changes: object) -> None:
    fields: dict[str, object] = {
        "client_id": invoice.client_id,
        "currency": "EUR",
        "due_date": DUE,
        "notes": None,
        "lines": LINES,
        "seller": {"name": "Seller"},
        "buyer": {"name": "Buyer"},
    }
    invoice.edit(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize("status", ["sent", "opened", "overdue", "paid", "cancelled"])
def test_only_a_draft_is_edited(status: str) -> None:
    invoice = in_status(status)
    before = (invoice.version, invoice.lines, invoice.total_cents)
    with pytest.raises(InvoiceStateError):
        edit(invoice)
    assert invoice.collect_events() == []
    assert (invoice.version, invoice.lines, invoice.total_cents) == before


def test_an_edit_records_changed_and_folds_back_to_the_same_state() -> None:
    invoice = draft(keep_pending_events=True)
    client_id = uuid4()
    edit(invoice, client_id=client_id, notes="Edited", due_date=ISSUED)
    created, changed = invoice.collect_events()
    assert type(changed).__name__ == "Changed"
    assert (invoice.number, invoice.issue_date, invoice.status) == (
        "F2026-00001",
        "2026-11-24",
        "draft",
    )
    assert (invoice.client_id, invoice.notes, invoice.due_date) == (
        client_id,
        "Edited",
        "2026-11-24",
    )
    assert (invoice.subtotal_cents, invoice.tax_cents, invoice.total_cents) == (9998, 2000, 11998)
    assert invoice.seller == {"name": "Seller"}
    replayed = changed.mutate(created.mutate(None))
    assert replayed is not None
    assert vars(replayed) == vars(invoice)


def test_an_edit_breaking_rules_records_nothing() -> None:
    invoice = draft()
    with pytest.raises(RulesBroken) as refused:
        edit(
            invoice,
            lines=[InvoiceLine("Refund", Decimal(1), -1, Decimal(0))],
            due_date=ISSUED - timedelta(days=1),
        )
    assert [type(rule) for rule in refused.value.rules] == [NegativeTotal, DueDateBeforeIssueDate]
    assert invoice.collect_events() == []
    assert invoice.total_cents == 12000
