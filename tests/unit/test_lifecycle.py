"""Every cell of API.md's lifecycle table, on the aggregate alone (no database).

Allowed: the expected events and status. Refused: InvoiceStateError (409) and no event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from fastfaktura.domain.errors import PaymentOutsideAmountDue
from fastfaktura.domain.invoice import Invoice, InvoiceLine, InvoiceStateError
from fastfaktura.readmodels.timeline import event_type

ISSUED = date(2026, 11, 24)
DUE = ISSUED + timedelta(days=30)
TOTAL = 12000  # 100.00 net + 20 % VAT
# `opened` invoices were viewed on ISSUED; the table's "open" is a view on another day (at most
# one `opened` per day: a second view the same day records nothing, see test_views.py).
VIEWED = ISSUED + timedelta(days=1)


def draft() -> Invoice:
    invoice = Invoice.draft(
        business_id=uuid4(),
        client_id=uuid4(),
        number="F2026-00001",
        currency="EUR",
        issue_date=ISSUED,
        due_date=DUE,
        notes=None,
        lines=[InvoiceLine("Work", Decimal(1), 10000, Decimal(20))],
        public_token="token",
        seller={},
        buyer={},
    )
    invoice.collect_events()
    return invoice


def in_status(status: str) -> Invoice:
    """An invoice brought to `status` through allowed transitions only."""
    invoice = draft()
    steps: dict[str, list[Callable[[Invoice], object]]] = {
        "draft": [],
        "sent": [lambda i: i.send({"link": None})],
        "opened": [lambda i: i.send({"link": None}), lambda i: i.open(ISSUED)],
        "overdue": [
            lambda i: i.send({"link": None}),
            lambda i: i.mark_overdue(DUE + timedelta(days=1)),
        ],
        "paid": [
            lambda i: i.send({"link": None}),
            lambda i: i.record_payment(TOTAL, "bank_transfer", "2026-11-25", None),
        ],
        "cancelled": [lambda i: i.cancel(None)],
    }
    for step in steps[status]:
        step(invoice)
    invoice.collect_events()
    assert invoice.status == status
    return invoice


ACTIONS: dict[str, Callable[[Invoice], object]] = {
    "send": lambda i: i.send({"email": "a@example.com"}),
    "remind": lambda i: i.send({"email": "a@example.com"}, reminder=True),
    "open": lambda i: i.open(VIEWED),
    "overdue": lambda i: i.mark_overdue(DUE + timedelta(days=1)),
    "pay_part": lambda i: i.record_payment(5000, "card", "2026-11-25", "r1"),
    "pay_all": lambda i: i.record_payment(TOTAL, "cash", "2026-11-25", None),
    "cancel": lambda i: i.cancel("duplicate"),
}

# (status, action) -> (events recorded, status after); None: refused with 409 and no event.
TABLE: dict[tuple[str, str], tuple[list[str], str] | None] = {
    ("draft", "send"): (["sent"], "sent"),
    ("draft", "remind"): None,
    ("draft", "open"): None,
    ("draft", "overdue"): ([], "draft"),
    ("draft", "pay_part"): None,
    ("draft", "pay_all"): None,
    ("draft", "cancel"): (["cancelled"], "cancelled"),
    ("sent", "send"): None,
    ("sent", "remind"): (["reminder_sent"], "sent"),
    ("sent", "open"): (["opened"], "opened"),
    ("sent", "overdue"): (["overdue"], "overdue"),
    ("sent", "pay_part"): (["payment_recorded"], "sent"),
    ("sent", "pay_all"): (["payment_recorded", "paid"], "paid"),
    ("sent", "cancel"): (["cancelled"], "cancelled"),
    ("opened", "send"): None,
    ("opened", "remind"): (["reminder_sent"], "opened"),
    ("opened", "open"): (["opened"], "opened"),
    ("opened", "overdue"): (["overdue"], "overdue"),
    ("opened", "pay_part"): (["payment_recorded"], "opened"),
    ("opened", "pay_all"): (["payment_recorded", "paid"], "paid"),
    ("opened", "cancel"): (["cancelled"], "cancelled"),
    ("overdue", "send"): None,
    ("overdue", "remind"): (["reminder_sent"], "overdue"),
    ("overdue", "open"): (["opened"], "overdue"),
    ("overdue", "overdue"): ([], "overdue"),
    ("overdue", "pay_part"): (["payment_recorded"], "overdue"),
    ("overdue", "pay_all"): (["payment_recorded", "paid"], "paid"),
    ("overdue", "cancel"): (["cancelled"], "cancelled"),
    ("paid", "send"): None,
    ("paid", "remind"): None,
    ("paid", "open"): (["opened"], "paid"),
    ("paid", "overdue"): ([], "paid"),
    ("paid", "pay_part"): None,
    ("paid", "pay_all"): None,
    ("paid", "cancel"): None,
    ("cancelled", "send"): None,
    ("cancelled", "remind"): None,
    ("cancelled", "open"): None,  # cancelled as a draft: never sent, so never public
    ("cancelled", "overdue"): ([], "cancelled"),
    ("cancelled", "pay_part"): None,
    ("cancelled", "pay_all"): None,
    ("cancelled", "cancel"): None,
}


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
    invoice.cancel("sent by mistake")
    invoice.collect_events()
    invoice.open(VIEWED)
    assert [event_type(type(e).TOPIC) for e in invoice.collect_events()] == ["opened"]
    assert invoice.status == "cancelled"
