"""Card payments on the Invoice aggregate alone (no database, no Stripe): the payment request
is recorded once, a PaymentIntent is counted once, and the invoices read model's
`card_payment` state (the payments worker's to-do list) follows the invoice."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from fastfaktura.domain.errors import PaymentOutsideAmountDue
from fastfaktura.domain.invoice import Invoice, InvoiceStateError
from fastfaktura.readmodels.models import card_payment_state
from tests.unit.lifecycle_support import TOTAL, cancel, draft, in_status


def requested(invoice: Invoice, intent: str = "pi_1", amount: int = TOTAL) -> bool:
    return invoice.record_payment_request(
        provider="stripe", payment_intent_id=intent, amount_cents=amount, livemode=False
    )


def topics(invoice: Invoice) -> list[str]:
    return [type(e).__qualname__.split(".")[-1] for e in invoice.collect_events()]


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("draft", None),
        ("sent", "pending"),
        ("opened", "pending"),
        ("overdue", "pending"),
        ("paid", None),
        ("cancelled", None),
    ],
)
def test_only_a_sent_invoice_with_money_due_awaits_a_payment_request(
    status: str, state: str | None
) -> None:
    invoice = in_status(status)
    assert invoice.awaits_payment_request is (state == "pending")
    assert card_payment_state(invoice) == state


def test_the_payment_request_is_recorded_once() -> None:
    invoice = in_status("sent")
    assert requested(invoice, "pi_first") is True
    assert requested(invoice, "pi_second") is False
    assert topics(invoice) == ["PaymentRequested"]
    # A typed value now (domain/payment_request.py); its fields are those of the dict it was.
    assert invoice.payment_request is not None
    assert asdict(invoice.payment_request) == {
        "provider": "stripe",
        "status": "requested",
        "payment_intent_id": "pi_first",
        "amount_cents": TOTAL,
        "error": None,
    }
    assert not invoice.awaits_payment_request
    assert card_payment_state(invoice) == "requested"


def test_a_draft_gets_no_payment_request() -> None:
    invoice = draft()
    with pytest.raises(InvoiceStateError):
        requested(invoice)
    assert topics(invoice) == []


def test_a_refused_request_is_recorded_once_and_ends_the_wait() -> None:
    invoice = in_status("sent")
    assert invoice.record_payment_request_failed(provider="stripe", error="amount too small")
    assert not invoice.record_payment_request_failed(provider="stripe", error="again")
    assert requested(invoice) is False
    assert topics(invoice) == ["PaymentRequestFailed"]
    assert card_payment_state(invoice) == "failed"


def test_a_payment_intent_is_counted_once() -> None:
    invoice = in_status("sent")
    requested(invoice)
    invoice.collect_events()
    assert invoice.record_card_payment("pi_1", 5000, "2026-11-25T10:00:00+00:00") is True
    assert invoice.record_card_payment("pi_1", 5000, "2026-11-25T10:00:00+00:00") is False
    assert topics(invoice) == ["PaymentRecorded"]
    assert (invoice.amount_paid_cents, invoice.status) == (5000, "sent")
    # Another intent (the rest, paid later) counts, and pays the invoice.
    assert invoice.record_card_payment("pi_2", TOTAL - 5000, "2026-11-26T10:00:00+00:00")
    assert topics(invoice) == ["PaymentRecorded", "Paid"]
    assert invoice.status == "paid"


def test_a_payment_recorded_by_hand_with_the_intent_as_reference_is_not_counted_again() -> None:
    invoice = in_status("sent")
    invoice.record_payment(TOTAL, "card", "2026-11-25", "pi_by_hand")
    invoice.collect_events()
    assert invoice.record_card_payment("pi_by_hand", TOTAL, "2026-11-25T10:00:00+00:00") is False
    assert topics(invoice) == []


@pytest.mark.parametrize("status", ["draft", "cancelled", "paid"])
def test_a_card_payment_is_refused_where_no_payment_is_allowed(status: str) -> None:
    invoice = in_status(status)
    with pytest.raises(InvoiceStateError):
        invoice.record_card_payment("pi_late", 100, "2026-11-25T10:00:00+00:00")
    assert topics(invoice) == []


def test_a_card_payment_above_the_amount_due_is_refused() -> None:
    invoice = in_status("sent")
    with pytest.raises(PaymentOutsideAmountDue):
        invoice.record_card_payment("pi_more", TOTAL + 1, "2026-11-25T10:00:00+00:00")
    assert topics(invoice) == []


def test_a_payment_by_other_means_makes_the_request_stale_until_updated() -> None:
    invoice = in_status("sent")
    requested(invoice, "pi_1")
    invoice.record_payment(5000, "bank_transfer", "2026-11-25", None)
    invoice.collect_events()
    assert (invoice.payment_request_action, card_payment_state(invoice)) == ("update", "stale")
    assert not invoice.record_payment_request_update(payment_intent_id="pi_other", amount_cents=1)
    assert invoice.record_payment_request_update(payment_intent_id="pi_1", amount_cents=7000)
    assert not invoice.record_payment_request_update(payment_intent_id="pi_1", amount_cents=7000)
    assert topics(invoice) == ["PaymentRequestUpdated"]
    assert (invoice.payment_request_action, card_payment_state(invoice)) == (None, "requested")


@pytest.mark.parametrize("how", ["cancel", "pay by bank transfer"])
def test_an_invoice_asking_for_nothing_more_closes_its_request(how: str) -> None:
    invoice = in_status("sent")
    requested(invoice, "pi_1")
    if how == "cancel":
        cancel(invoice)
    else:
        invoice.record_payment(TOTAL, "bank_transfer", "2026-11-25", None)
    invoice.collect_events()
    assert (invoice.payment_request_action, card_payment_state(invoice)) == ("close", "stale")
    assert invoice.record_payment_request_closed(payment_intent_id="pi_1", reason="done")
    assert not invoice.record_payment_request_closed(payment_intent_id="pi_1", reason="again")
    assert topics(invoice) == ["PaymentRequestClosed"]
    assert (invoice.payment_request_action, card_payment_state(invoice)) == (None, "closed")


def test_an_intent_paid_by_card_needs_nothing_more() -> None:
    invoice = in_status("sent")
    requested(invoice, "pi_1")
    invoice.record_card_payment("pi_1", TOTAL, "2026-11-25T10:00:00+00:00")
    assert invoice.status == "paid"
    assert (invoice.payment_request_action, card_payment_state(invoice)) == (None, "requested")


def test_only_an_open_request_with_money_due_can_be_paid_by_card() -> None:
    invoice = in_status("sent")
    assert invoice.payable_intent_id is None  # no request yet
    requested(invoice, "pi_1")
    assert invoice.payable_intent_id == "pi_1"
    invoice.record_payment(TOTAL - 1, "bank_transfer", "2026-11-25", None)
    assert invoice.payable_intent_id == "pi_1"  # a cent is still due (the page checks the amount)
    invoice.record_payment_request_closed(payment_intent_id="pi_1", reason="done")
    assert invoice.payable_intent_id is None
    cancelled = in_status("sent")
    requested(cancelled, "pi_2")
    cancel(cancelled)
    assert cancelled.payable_intent_id is None
