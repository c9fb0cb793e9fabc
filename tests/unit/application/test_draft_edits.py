"""Editing a draft (Invoicing.edit_invoice), on the in-memory store: what an edit records or
refuses, and how it meets a concurrent writer."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from fastfaktura.application import Invoicing
from fastfaktura.domain.errors import (
    DueDateBeforeIssueDate,
    InvoicedClientArchived,
    InvoicedClientUnknown,
    NegativeTotal,
    NotFoundError,
    RulesBroken,
)
from fastfaktura.domain.invoice import Invoice, InvoiceStateError
from fastfaktura.domain.pricing import InvoiceLine
from tests.unit.application.conftest import Account, Clock, SharedStore, create, line, topics


def _other_client(app: Invoicing, account: Account, name: str = "Beta") -> Account:
    client = app.register_client(account.business_id, {"name": name, "email": None}).value
    return Account(account.business_id, client.id)


def test_an_edit_reprices_exactly_keeps_number_and_issue_date_and_refreezes_parties(
    app: Invoicing, account: Account, clock: Clock
) -> None:
    invoice = create(app, account, notes="Thanks")
    beta = _other_client(app, account)
    app.change_business_profile(account.business_id, {"legal_name": "Shop Holding AS"})
    clock.advance(days=3)  # an edit on another day keeps the issue date
    lines = [
        InvoiceLine("Audit", Decimal("2.5"), 3999, Decimal(20)),
        InvoiceLine("Books", Decimal(1), 1250, Decimal("5.5")),
    ]
    due = date(2026, 12, 1)

    edited = app.edit_invoice(
        account.business_id,
        invoice.id,
        {"client_id": beta.client_id, "lines": lines, "due_date": due, "currency": "NOK"},
    ).value
    assert (edited.number, edited.issue_date) == (invoice.number, invoice.issue_date)
    assert edited.public_token == invoice.public_token
    assert (edited.client_id, edited.currency, edited.due_date) == (
        beta.client_id,
        "NOK",
        "2026-12-01",
    )
    assert edited.notes == "Thanks"  # not in the changes: kept
    assert [ln["net_cents"] for ln in edited.lines] == [9998, 1250]
    assert (edited.subtotal_cents, edited.tax_cents, edited.total_cents) == (11248, 2069, 13317)
    assert edited.seller["legal_name"] == "Shop Holding AS"
    assert (edited.buyer["name"], edited.buyer["id"]) == ("Beta", str(beta.client_id))
    assert topics(app, invoice.id) == ["Created", "Changed"]
    # What is stored folds back to the same state.
    reloaded = app.get(Invoice, invoice.id, account.business_id)
    assert (reloaded.total_cents, reloaded.lines) == (13317, edited.lines)


def test_an_edit_without_lines_keeps_them_and_a_null_due_date_is_the_default(
    app: Invoicing, account: Account, clock: Clock
) -> None:
    invoice = create(app, account, line(quantity="1.5"), line(-2000, rate="10"))
    edited = app.edit_invoice(
        account.business_id, invoice.id, {"notes": None, "due_date": None}
    ).value
    assert edited.lines == invoice.lines
    assert edited.total_cents == invoice.total_cents
    assert edited.due_date == (clock.now.date() + timedelta(days=30)).isoformat()


def test_only_a_draft_is_edited(app: Invoicing, account: Account) -> None:
    sent = create(app, account)
    app.send_invoice(account.business_id, sent.id, ["link"])
    cancelled = create(app, account)
    app.cancel_invoice(account.business_id, cancelled.id, None)
    for invoice, recorded in ((sent, ["Created", "Sent"]), (cancelled, ["Created", "Cancelled"])):
        with pytest.raises(InvoiceStateError):
            app.edit_invoice(account.business_id, invoice.id, {"notes": "Late"})
        with pytest.raises(InvoiceStateError):  # the state first, whatever the body
            app.edit_rules_broken(account.business_id, invoice.id, {"client_id": uuid4()})
        assert topics(app, invoice.id) == recorded


def test_an_edit_breaking_rules_reports_them_all_and_records_nothing(
    app: Invoicing, account: Account, clock: Clock
) -> None:
    invoice = create(app, account)
    gone = _other_client(app, account, "Gone")
    app.archive_client(account.business_id, gone.client_id)
    yesterday = clock.now.date() - timedelta(days=1)
    for client_id, client_rule in (
        (gone.client_id, InvoicedClientArchived),
        (uuid4(), InvoicedClientUnknown),
    ):
        with pytest.raises(RulesBroken) as refused:
            app.edit_invoice(
                account.business_id,
                invoice.id,
                {"client_id": client_id, "lines": [line(-100)], "due_date": yesterday},
            )
        assert [type(rule) for rule in refused.value.rules] == [
            NegativeTotal,
            client_rule,
            DueDateBeforeIssueDate,
        ]
    # The date is judged against the draft's issue date, not today's.
    clock.advance(days=5)
    with pytest.raises(RulesBroken) as refused:
        app.edit_invoice(account.business_id, invoice.id, {"due_date": yesterday})
    assert [type(rule) for rule in refused.value.rules] == [DueDateBeforeIssueDate]
    assert topics(app, invoice.id) == ["Created"]
    # The rules of a partly invalid request, judged on the parts given.
    assert app.edit_rules_broken(account.business_id, invoice.id, {}) == []
    judged = app.edit_rules_broken(
        account.business_id, invoice.id, {"client_id": gone.client_id, "due_date": yesterday}
    )
    assert [type(rule) for rule in judged] == [InvoicedClientArchived, DueDateBeforeIssueDate]


def test_another_business_neither_edits_nor_lends_its_client(
    app: Invoicing, account: Account
) -> None:
    invoice = create(app, account)
    other_id = app.register_business("Other AS", "sandbox").value.business_id
    other_client = app.register_client(other_id, {"name": "Theirs"}).value
    with pytest.raises(NotFoundError):
        app.edit_invoice(other_id, invoice.id, {"notes": "Mine"})
    with pytest.raises(NotFoundError):
        app.edit_rules_broken(other_id, invoice.id, {})
    with pytest.raises(RulesBroken) as refused:
        app.edit_invoice(account.business_id, invoice.id, {"client_id": other_client.id})
    assert [type(rule) for rule in refused.value.rules] == [InvoicedClientUnknown]
    assert topics(app, invoice.id) == ["Created"]


def test_an_edit_that_loses_the_race_to_a_send_is_refused(
    app: Invoicing, other_process: Invoicing, account: Account, store: SharedStore
) -> None:
    """The invoice is sent between the edit's load and its save: the edit runs again, finds
    it sent, and records nothing (an invoice never changes once sent)."""
    invoice = create(app, account)
    store.before_next_insert.append(
        lambda: other_process.send_invoice(account.business_id, invoice.id, ["link"])
    )
    with pytest.raises(InvoiceStateError):
        app.edit_invoice(account.business_id, invoice.id, {"notes": "Too late"})
    assert store.before_next_insert == []  # the rival did send in between
    assert topics(app, invoice.id) == ["Created", "Sent"]
