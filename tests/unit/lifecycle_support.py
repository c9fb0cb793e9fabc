"""Invoices in every status of the lifecycle table, built on the aggregate alone (no database):
shared by the lifecycle, card payment and view tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

from fastfaktura.domain.invoice import Invoice, InvoiceLine

ISSUED = date(2026, 11, 24)
DUE = ISSUED + timedelta(days=30)
TOTAL = 12000  # 100.00 net + 20 % VAT
# `opened` invoices were viewed on ISSUED; the table's "open" is a view on another day (at most
# one `opened` per day: a second view the same day records nothing, see test_views.py).
VIEWED = ISSUED + timedelta(days=1)


def draft(*, keep_pending_events: bool = False) -> Invoice:
    """A one-line draft. Its `created` event is collected (as after a save) unless
    `keep_pending_events`: then saving the invoice stores it."""
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
    if not keep_pending_events:
        invoice.collect_events()
    return invoice


def cancel(invoice: Invoice, reason: str | None = None) -> None:
    """Cancel as the application does: an issued invoice names the credit note (of all that
    is left) that annuls it, saved with it; a draft cancels alone."""
    if invoice.status == "draft":
        invoice.cancel(reason)
    else:
        invoice.cancel(reason, uuid4(), invoice.creditable_cents)


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
        "cancelled": [cancel],
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
    "cancel": lambda i: cancel(i, "duplicate"),
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
