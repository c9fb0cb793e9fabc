"""Credit notes in the application, in memory: races with another writer, and the cancel of an
issued invoice, decided on what is stored when the attempt that wins is made."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from eventsourcing.persistence import StoredEvent

from fastfaktura.application import Invoicing
from fastfaktura.domain.credit_note import CreditNote
from fastfaktura.domain.errors import ConflictError, NotFoundError, RulesBroken
from fastfaktura.domain.invoice import Invoice
from fastfaktura.domain.pricing import InvoiceLine
from fastfaktura.domain.series import CreditNoteSeries, credit_note_series_id
from tests.unit.application.conftest import Account, Clock, SharedStore, create, line, topics


def credited(cents: int) -> list[InvoiceLine]:
    return [InvoiceLine("Credited", Decimal(1), cents, Decimal(20))]


def test_a_draft_sent_while_it_is_cancelled_is_annulled_by_a_credit_note(
    app: Invoicing, other_process: Invoicing, account: Account, store: SharedStore
) -> None:
    invoice = create(app, account)
    store.before_next_insert.append(
        lambda: other_process.send_invoice(account.business_id, invoice.id, ["link"])
    )
    cancelled = app.cancel_invoice(account.business_id, invoice.id, "wrong client").value
    assert (cancelled.status, cancelled.amount_credited_cents) == ("cancelled", 12000)
    assert topics(app, invoice.id) == ["Created", "Sent", "Cancelled"]
    (cancel_event,) = [e for e in app.events.get(invoice.id) if type(e).__name__ == "Cancelled"]
    note = app.get(CreditNote, cancel_event.credit_note_id, account.business_id)
    assert (note.total_cents, note.reason, note.number) == (12000, "wrong client", "A2026-00001")


def test_a_payment_racing_a_cancel_makes_it_a_409_and_nothing_is_issued(
    app: Invoicing, other_process: Invoicing, account: Account, store: SharedStore
) -> None:
    invoice = create(app, account)
    app.send_invoice(account.business_id, invoice.id, ["link"])
    store.before_next_insert.append(
        lambda: other_process.record_payment(
            account.business_id, invoice.id, amount_cents=100, method="cash"
        )
    )
    with pytest.raises(ConflictError):
        app.cancel_invoice(account.business_id, invoice.id, None)
    assert topics(app, invoice.id) == ["Created", "Sent", "PaymentRecorded"]
    assert app.find(CreditNoteSeries, credit_note_series_id(account.business_id, 2026)) is None


def test_a_credit_note_racing_another_is_judged_on_what_the_other_left(
    app: Invoicing, other_process: Invoicing, account: Account, store: SharedStore
) -> None:
    invoice = create(app, account)  # 120.00
    app.send_invoice(account.business_id, invoice.id, ["link"])
    store.before_next_insert.append(
        lambda: other_process.issue_credit_note(
            account.business_id, invoice.id, reason="first", lines=credited(6000)
        )
    )
    with pytest.raises(RulesBroken):  # 72.00 asked, 48.00 left once the rival's is stored
        app.issue_credit_note(account.business_id, invoice.id, reason="late", lines=credited(6000))
    second = app.issue_credit_note(account.business_id, invoice.id, reason="rest").value
    assert (second.number, second.total_cents) == ("A2026-00002", 4800)
    stored = app.get(Invoice, invoice.id, account.business_id)
    assert (stored.status, stored.amount_credited_cents) == ("cancelled", 12000)


def test_credit_notes_number_per_year_and_another_business_cannot_credit(
    app: Invoicing, account: Account, clock: Clock
) -> None:
    invoice = create(app, account, line(100000))
    app.send_invoice(account.business_id, invoice.id, ["link"])
    first = app.issue_credit_note(account.business_id, invoice.id, reason="a", lines=credited(1))
    clock.advance(days=40)  # into 2027
    again = app.issue_credit_note(account.business_id, invoice.id, reason="b", lines=credited(1))
    assert (first.value.number, again.value.number) == ("A2026-00001", "A2027-00001")
    other = app.register_business("Other AB", "sandbox").value.business_id
    with pytest.raises(NotFoundError):
        app.issue_credit_note(other, invoice.id, reason="theirs")
    with pytest.raises(NotFoundError):
        app.record_refund(other, first.value.id, amount_cents=1, method="cash")


def test_a_cancelled_event_stored_before_credit_notes_still_replays(
    app: Invoicing, account: Account
) -> None:
    """`cancelled` gained `credit_note_id` and `credited_cents`; events stored without them
    fold as a cancel that credited nothing."""
    invoice = create(app, account)
    app.cancel_invoice(account.business_id, invoice.id, "typo")
    replayed = None
    for stored in app.recorder.select_events(invoice.id):
        if stored.topic.endswith(".Cancelled"):
            state = json.loads(stored.state)
            del state["credit_note_id"], state["credited_cents"]
            stored = StoredEvent(
                stored.originator_id,
                stored.originator_version,
                stored.topic,
                json.dumps(state).encode(),
            )
        replayed = app.mapper.to_domain_event(stored).mutate(replayed)
    assert isinstance(replayed, Invoice)
    assert (replayed.status, replayed.amount_credited_cents) == ("cancelled", 0)
