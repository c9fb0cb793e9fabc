"""The journal folded from an invoice's events (domain/ledger.py) and the FEC's value formats
(adapters/fec.py), without a database: every entry balances, an issued invoice cancelled
before credit notes existed is reversed, amounts and company ids read as the format wants."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from fastfaktura.adapters.fec import fec_amount, file_name, siren
from fastfaktura.domain.ledger import BANK, SALES, Ledger
from tests.unit.lifecycle_support import ISSUED, draft


def folded(invoice_events: list[object]) -> Ledger:
    ledger = Ledger()
    for event in invoice_events:
        ledger.apply(event)
    return ledger


def test_an_invoice_cancelled_without_a_credit_note_is_reversed_on_its_cancel_day() -> None:
    invoice = draft(keep_pending_events=True)
    invoice.send({"link": None})
    invoice.record_payment(2000, "cash", "2026-11-25T23:30:00-05:00", None)
    # As stored before credit notes existed: `cancelled` naming no credit note.
    invoice._cancelled(reason="old")
    ledger = folded(list(invoice.collect_events()))
    sale, payment, annulled = ledger.entries
    today = datetime.now(UTC).date()
    assert (sale.journal, sale.day, sale.valid_day) == (SALES, ISSUED, today)
    assert [(ln.account.number, ln.debit_cents, ln.credit_cents) for ln in sale.lines] == [
        ("411000", 12000, 0),
        ("706000", 0, 10000),
        ("445710", 0, 2000),
    ]
    # paid_at's UTC day, not its local one
    assert (payment.journal, payment.day) == (BANK, date(2026, 11, 26))
    assert [(ln.account.number, ln.debit_cents, ln.credit_cents) for ln in annulled.lines] == [
        ("411000", 0, 12000),
        ("706000", 10000, 0),
        ("445710", 2000, 0),
    ]
    assert annulled.day == today
    assert annulled.piece_day == ISSUED
    assert all(entry.balanced for entry in ledger.entries)
    numbered = ledger.year(ISSUED.year)
    assert [n.number for n in numbered if n.entry.journal == SALES][:1] == ["VE2026-000001"]
    assert ledger.year(ISSUED.year - 1) == []


def test_a_draft_and_its_cancel_book_nothing() -> None:
    invoice = draft(keep_pending_events=True)
    invoice.cancel("never sent")
    assert folded(list(invoice.collect_events())).entries == []


@pytest.mark.parametrize(
    ("cents", "shown"), [(0, "0,00"), (5, "0,05"), (12345, "123,45"), (100000000, "1000000,00")]
)
def test_amounts_have_a_decimal_comma_and_no_thousands_separator(cents: int, shown: str) -> None:
    assert fec_amount(cents) == shown


@pytest.mark.parametrize(
    ("company_id", "found"),
    [
        ("732829320", "732829320"),
        ("732 829 320 00074", "732829320"),
        ("73282932000074", "732829320"),
        ("12345", None),
        ("NO 123456789 MVA", None),
        (None, None),
    ],
)
def test_the_siren_of_a_company_id(company_id: str | None, found: str | None) -> None:
    assert siren(company_id) == found


def test_the_file_name_rule() -> None:
    assert file_name("732829320", date(2026, 12, 31)) == "732829320FEC20261231.txt"
