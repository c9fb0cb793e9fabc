"""Every cell of API.md's lifecycle table, on the aggregate alone (no database).

Allowed: the expected events and status. Refused: InvoiceStateError (409) and no event.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from fastfaktura.domain.errors import PaymentOutsideAmountDue
from fastfaktura.domain.invoice import InvoiceStateError
from fastfaktura.readmodels.timeline import event_type
from tests.unit.lifecycle_support import (
    ACTIONS,
    DUE,
    TABLE,
    TOTAL,
    VIEWED,
    cancel,
    in_status,
)


def test_the_table_covers_every_status_and_action() -> None:
    statuses = ("draft", "sent", "opened", "overdue", "paid", "cancelled")
    assert set(TABLE) == {(s, a) for s in statuses for a in ACTIONS}


@pytest.mark.parametrize(("status", "action"), sorted(TABLE), ids=lambda v: str(v))
def test_lifecycle_cell(status: str, action: str) -> None:
    invoice = in_status(status)
    expected = TABLE[(status, action)]
    if expected is None:
        with pytest.raises(InvoiceStateError):
            ACTIONS[action](invoice)
        assert invoice.collect_events() == []
        assert invoice.status == status
        return
    ACTIONS[action](invoice)
    events, after = expected
    assert [event_type(type(e).TOPIC) for e in invoice.collect_events()] == events
    assert invoice.status == after


def test_overdue_needs_the_due_date_to_have_passed() -> None:
    invoice = in_status("sent")
    assert invoice.mark_overdue(DUE) is False
    assert invoice.collect_events() == []
    assert invoice.mark_overdue(DUE + timedelta(days=1)) is True
    assert invoice.mark_overdue(DUE + timedelta(days=2)) is False  # a second sweep: nothing


def test_partial_payments_add_up_to_paid() -> None:
    invoice = in_status("sent")
    invoice.record_payment(7000, "bank_transfer", "2026-11-25", "first")
    assert (invoice.status, invoice.amount_paid_cents, invoice.amount_due_cents) == (
        "sent",
        7000,
        5000,
    )
    invoice.record_payment(5000, "bank_transfer", "2026-11-26", "second")
    assert (invoice.status, invoice.amount_due_cents) == ("paid", 0)


@pytest.mark.parametrize("amount", [0, -1, TOTAL + 1])
def test_a_payment_must_be_positive_and_at_most_the_amount_due(amount: int) -> None:
    invoice = in_status("opened")
    with pytest.raises(PaymentOutsideAmountDue) as refused:
        invoice.record_payment(amount, "card", "2026-11-25", None)
    assert refused.value.amount_due_cents == TOTAL
    assert invoice.collect_events() == []


def test_an_invoice_cancelled_after_it_was_sent_stays_viewable() -> None:
    invoice = in_status("sent")
    cancel(invoice, "sent by mistake")
    invoice.collect_events()
    invoice.open(VIEWED)
    assert [event_type(type(e).TOPIC) for e in invoice.collect_events()] == ["opened"]
    assert invoice.status == "cancelled"
