"""The application's decisions, on the in-memory store: what each command records or refuses."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import pytest

from fastfaktura.application import MAX_ATTEMPTS, Invoicing
from fastfaktura.domain.business import Business
from fastfaktura.domain.client import Client
from fastfaktura.domain.errors import (
    ChannelWithoutAddress,
    ConflictError,
    DueDateBeforeIssueDate,
    InvoicedClientArchived,
    InvoicedClientUnknown,
    NegativeTotal,
    NotFoundError,
    PaymentOutsideAmountDue,
    RulesBroken,
)
from fastfaktura.domain.invoice import Invoice, InvoiceStateError
from fastfaktura.domain.series import InvoiceSeries, series_id
from tests.unit.application.conftest import (
    Account,
    Clock,
    SharedStore,
    create,
    line,
    topics,
)

TOTAL = 12000  # one line of 100.00 at 20 %


def test_a_business_with_its_key_a_client_and_a_priced_numbered_invoice(
    app: Invoicing, account: Account, clock: Clock
) -> None:
    business = app.get(Business, account.business_id)
    assert business.profile["payment_terms_days"] == 30
    client = app.get(Client, account.client_id, account.business_id)
    assert client.details["locale"] == "en"  # the business's locale, by default

    invoice = create(app, account, line(), line(-2000, rate="20"), notes="Thanks")
    assert invoice.number == "F2026-00001"
    assert (invoice.subtotal_cents, invoice.tax_cents, invoice.total_cents) == (8000, 1600, 9600)
    assert invoice.issue_date == clock.now.date().isoformat()
    assert invoice.due_date == (clock.now.date() + timedelta(days=30)).isoformat()
    assert invoice.seller["name"] == "Shop AS"
    assert invoice.buyer["name"] == "Acme"
    assert invoice.buyer["id"] == str(account.client_id)
    assert topics(app, invoice.id) == ["Created"]


def test_numbers_are_gapless_per_business_and_year_and_a_refusal_consumes_none(
    app: Invoicing, account: Account, clock: Clock
) -> None:
    numbers = [create(app, account).number for _ in range(3)]
    with pytest.raises(RulesBroken):
        create(app, account, line(-100))  # negative total
    numbers.append(create(app, account).number)
    assert numbers == ["F2026-00001", "F2026-00002", "F2026-00003", "F2026-00004"]

    other = app.register_business("Other AB", "sandbox").value.business_id
    buyer = app.register_client(other, {"name": "B"}).value.id
    assert create(app, Account(other, buyer)).number == "F2026-00001"

    clock.advance(days=40)  # into 2027: a new series
    assert create(app, account).number == "F2027-00001"
    series = app.get(InvoiceSeries, series_id(account.business_id, 2026))
    assert series.last == 4


def test_every_rule_a_creation_breaks_is_reported_at_once_and_nothing_is_stored(
    app: Invoicing, account: Account, clock: Clock, store: SharedStore
) -> None:
    yesterday = clock.now.date() - timedelta(days=1)
    before = store.inserts
    with pytest.raises(RulesBroken) as refused:
        app.create_invoice(
            account.business_id,
            client_id=uuid4(),
            currency="EUR",
            lines=[line(100), line(-200)],
            due_date=yesterday,
        )
    assert [type(rule) for rule in refused.value.rules] == [
        NegativeTotal,
        InvoicedClientUnknown,
        DueDateBeforeIssueDate,
    ]
    with pytest.raises(RulesBroken) as refused:
        create(app, account, due_date=yesterday)
    assert [type(rule) for rule in refused.value.rules] == [DueDateBeforeIssueDate]
    assert store.inserts == before
    assert create(app, account, due_date=clock.now.date()).number.endswith("-00001")


def test_the_rules_of_a_partial_request_are_judged_on_the_parts_given(
    app: Invoicing, account: Account, clock: Clock
) -> None:
    business = account.business_id
    assert app.invoice_rules_broken(business) == []
    assert app.invoice_rules_broken(business, client_id=account.client_id) == []
    (unknown,) = app.invoice_rules_broken(business, client_id=uuid4())
    assert isinstance(unknown, InvoicedClientUnknown)
    (early,) = app.invoice_rules_broken(business, due_date=date(2000, 1, 1))
    assert isinstance(early, DueDateBeforeIssueDate)
    (negative,) = app.invoice_rules_broken(business, lines=[line(-1)])
    assert isinstance(negative, NegativeTotal)


def test_an_archived_or_foreign_client_is_not_invoiced(app: Invoicing, account: Account) -> None:
    other = app.register_business("Other AB", "sandbox").value.business_id
    foreign = app.register_client(other, {"name": "Theirs"}).value.id
    with pytest.raises(RulesBroken) as refused:
        create(app, Account(account.business_id, foreign))
    assert [type(r) for r in refused.value.rules] == [InvoicedClientUnknown]

    app.archive_client(account.business_id, account.client_id)
    with pytest.raises(RulesBroken) as refused:
        create(app, account)
    assert [type(r) for r in refused.value.rules] == [InvoicedClientArchived]


def test_another_business_cannot_reach_an_invoice(app: Invoicing, account: Account) -> None:
    invoice = create(app, account)
    other = app.register_business("Other AB", "sandbox").value.business_id
    with pytest.raises(NotFoundError):
        app.cancel_invoice(other, invoice.id, None)
    with pytest.raises(NotFoundError):
        app.get(Invoice, account.client_id, account.business_id)  # a client, not an invoice


def test_send_needs_each_channels_address_then_pay_in_parts_then_no_cancel(
    app: Invoicing, account: Account
) -> None:
    invoice = create(app, account)
    with pytest.raises(RulesBroken) as refused:
        app.send_invoice(account.business_id, invoice.id, ["email", "sms", "link"])
    (missing,) = refused.value.rules
    assert isinstance(missing, ChannelWithoutAddress)
    assert (missing.channel, missing.detail) == ("sms", "phone")
    assert topics(app, invoice.id) == ["Created"]

    sent = app.send_invoice(account.business_id, invoice.id, ["email", "link"]).value
    assert sent.status == "sent"
    assert sorted(d["to"] or "" for d in sent.deliveries.values()) == ["", "ap@acme.test"]
    with pytest.raises(InvoiceStateError):
        app.send_invoice(account.business_id, invoice.id, ["link"])  # sent already
    reminded = app.send_invoice(account.business_id, invoice.id, ["link"], reminder=True)
    assert reminded.value.status == "sent"

    with pytest.raises(PaymentOutsideAmountDue):
        app.record_payment(account.business_id, invoice.id, amount_cents=TOTAL + 1, method="cash")
    app.record_payment(account.business_id, invoice.id, amount_cents=2000, method="cash")
    paid = app.record_payment(
        account.business_id, invoice.id, amount_cents=TOTAL - 2000, method="bank_transfer"
    ).value
    assert (paid.status, paid.amount_due_cents) == ("paid", 0)
    with pytest.raises(InvoiceStateError):
        app.cancel_invoice(account.business_id, invoice.id, "too late")
    assert topics(app, invoice.id) == [
        "Created",
        "Sent",
        "ReminderSent",
        "PaymentRecorded",
        "PaymentRecorded",
        "Paid",
    ]


def test_a_draft_cancelled_keeps_its_number_and_has_no_public_page(
    app: Invoicing, account: Account
) -> None:
    invoice = create(app, account)
    cancelled = app.cancel_invoice(account.business_id, invoice.id, "typo").value
    assert (cancelled.status, cancelled.number) == ("cancelled", "F2026-00001")
    with pytest.raises(InvoiceStateError):
        app.open_invoice(account.business_id, invoice.id)
    assert create(app, account).number == "F2026-00002"


def test_a_sent_invoice_is_opened_once_per_utc_day(
    app: Invoicing, account: Account, clock: Clock
) -> None:
    invoice = create(app, account)
    app.send_invoice(account.business_id, invoice.id, ["link"])
    for _ in range(3):
        app.open_invoice(account.business_id, invoice.id)
    clock.advance(days=1)
    app.open_invoice(account.business_id, invoice.id)
    app.open_invoice(account.business_id, invoice.id)
    assert topics(app, invoice.id) == ["Created", "Sent", "Opened", "Opened"]
    assert app.get(Invoice, invoice.id).status == "opened"


def test_overdue_is_recorded_once_past_the_due_date(app: Invoicing, account: Account) -> None:
    invoice = create(app, account)
    due = date.fromisoformat(invoice.due_date)
    app.send_invoice(account.business_id, invoice.id, ["link"])
    app.mark_overdue(account.business_id, invoice.id, due)
    app.mark_overdue(account.business_id, invoice.id, due + timedelta(days=1))
    app.mark_overdue(account.business_id, invoice.id, due + timedelta(days=2))
    assert topics(app, invoice.id) == ["Created", "Sent", "Overdue"]


def test_the_card_payment_request_follows_the_amount_due(app: Invoicing, account: Account) -> None:
    business, invoice_id = account.business_id, create(app, account).id
    with pytest.raises(InvoiceStateError):  # never sent
        app.record_payment_request(
            business, invoice_id, provider="stripe", payment_intent_id="pi_1",
            amount_cents=TOTAL, livemode=False,
        )  # fmt: skip
    app.send_invoice(business, invoice_id, ["link"])
    assert app.get(Invoice, invoice_id).payment_request_action == "create"
    for intent in ("pi_1", "pi_2"):  # the second is a repeat: nothing recorded
        app.record_payment_request(
            business, invoice_id, provider="stripe", payment_intent_id=intent,
            amount_cents=TOTAL, livemode=False,
        )  # fmt: skip
    assert app.get(Invoice, invoice_id).payable_intent_id == "pi_1"

    app.record_payment(business, invoice_id, amount_cents=2000, method="cash")
    assert app.get(Invoice, invoice_id).payment_request_action == "update"
    app.record_payment_request_update(
        business, invoice_id, payment_intent_id="pi_1", amount_cents=TOTAL - 2000
    )
    assert app.get(Invoice, invoice_id).payment_request_action is None

    recorded = app.record_card_payment(
        business, invoice_id, payment_intent_id="pi_1", amount_cents=TOTAL - 2000,
        paid_at=app.clock(),
    )  # fmt: skip
    again = app.record_card_payment(
        business, invoice_id, payment_intent_id="pi_1", amount_cents=TOTAL - 2000,
        paid_at=app.clock(),
    )  # fmt: skip
    assert (recorded.value, again.value) == (True, False)
    paid = app.get(Invoice, invoice_id)
    assert (paid.status, paid.payment_request_action, paid.payable_intent_id) == (
        "paid",
        None,
        None,
    )
    assert topics(app, invoice_id)[2:] == [
        "PaymentRequested",
        "PaymentRecorded",
        "PaymentRequestUpdated",
        "PaymentRecorded",
        "Paid",
    ]


def test_a_cancelled_invoice_asks_to_close_its_request_once(
    app: Invoicing, account: Account
) -> None:
    business, invoice_id = account.business_id, create(app, account).id
    app.send_invoice(business, invoice_id, ["link"])
    app.record_payment_request(
        business, invoice_id, provider="stripe", payment_intent_id="pi_1",
        amount_cents=TOTAL, livemode=False,
    )  # fmt: skip
    app.cancel_invoice(business, invoice_id, None)
    assert app.get(Invoice, invoice_id).payment_request_action == "close"
    for _ in range(2):
        app.record_payment_request_closed(
            business, invoice_id, payment_intent_id="pi_1", reason="cancelled"
        )
    invoice = app.get(Invoice, invoice_id)
    assert invoice.payment_request is not None
    assert (invoice.payment_request.status, invoice.payment_request_action) == ("closed", None)
    assert topics(app, invoice_id).count("PaymentRequestClosed") == 1


def test_a_creation_that_loses_the_race_for_its_number_takes_the_next_one(
    app: Invoicing, other_process: Invoicing, account: Account, store: SharedStore
) -> None:
    """Another process numbers an invoice between this one's load and save: the save fails
    on the series' version, and the whole attempt runs again with the next number."""
    rival: list[Invoice] = []
    store.before_next_insert.append(lambda: rival.append(create(other_process, account)))
    mine = create(app, account)
    assert (rival[0].number, mine.number) == ("F2026-00001", "F2026-00002")
    assert app.get(InvoiceSeries, series_id(account.business_id, 2026)).last == 2


def test_a_process_numbers_from_the_series_it_saved_and_rereads_it_after_a_rival(
    app: Invoicing,
    other_process: Invoicing,
    account: Account,
    store: SharedStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The next creation in the same process takes its number from the series as this
    process saved it, without reading it; once another process has numbered one, the save
    conflicts on the series' version and the retry reads it: still gapless, never twice."""
    key = series_id(account.business_id, 2026)
    reads: list[object] = []
    select_events = store.select_events

    def counted(originator_id: Any, **kwargs: Any) -> Any:
        reads.append(originator_id)
        return select_events(originator_id, **kwargs)

    monkeypatch.setattr(store, "select_events", counted)
    numbers = [create(app, account).number]
    reads.clear()
    numbers.append(create(app, account).number)
    assert key not in reads
    numbers.append(create(other_process, account).number)
    reads.clear()
    numbers.append(create(app, account).number)  # its remembered series is one behind
    assert key in reads
    assert numbers == ["F2026-00001", "F2026-00002", "F2026-00003", "F2026-00004"]
    assert app.get(InvoiceSeries, key).last == 4


def test_a_view_that_loses_a_race_records_nothing_and_succeeds(
    app: Invoicing, other_process: Invoicing, account: Account, store: SharedStore
) -> None:
    invoice = create(app, account)
    app.send_invoice(account.business_id, invoice.id, ["link"])
    store.before_next_insert.append(
        lambda: other_process.open_invoice(account.business_id, invoice.id)
    )
    app.open_invoice(account.business_id, invoice.id)
    assert topics(app, invoice.id) == ["Created", "Sent", "Opened"]


def test_a_command_that_always_loses_the_race_is_a_conflict(
    app: Invoicing, other_process: Invoicing, account: Account, store: SharedStore
) -> None:
    invoice = create(app, account)
    business = account.business_id
    app.send_invoice(business, invoice.id, ["link"])
    store.before_next_insert.extend(
        (lambda: other_process.send_invoice(business, invoice.id, ["link"], reminder=True))
        for _ in range(MAX_ATTEMPTS)
    )
    with pytest.raises(ConflictError) as refused:
        app.cancel_invoice(business, invoice.id, None)
    assert type(refused.value) is ConflictError  # the race, not a refused transition
    assert store.before_next_insert == []
    assert topics(app, invoice.id).count("ReminderSent") == MAX_ATTEMPTS
    assert "Cancelled" not in topics(app, invoice.id)
