"""Pure: the VAT category each line gets from the facts (API.md "E-invoices and legal
checks"), the breakdown grouped by category and rate, and the payment references' check digits
checked by python-stdnum (an independent implementation of ISO 11649 and Luhn)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from stdnum import iso11649, luhn

from fastfaktura.domain.invoice_terms import InvoiceTerms
from fastfaktura.domain.payment_reference import payment_reference, reference_for_number
from fastfaktura.domain.vat_categories import categorized, default_category

FR_SELLER: dict[str, Any] = {"country": "FR", "vat_exempt_293b": False}
FRANCHISE: dict[str, Any] = {"country": "FR", "vat_exempt_293b": True}


@pytest.mark.parametrize(
    ("seller", "buyer", "expected"),
    [
        (FR_SELLER, {"country": "DE", "vat_number": "DE123456789"}, "AE"),
        # B2B by its company id alone: no VAT number, so no reverse charge.
        (FR_SELLER, {"country": "DE", "company_id": "HRB 1234"}, "Z"),
        (FR_SELLER, {"country": "FR", "vat_number": "FR40303265045"}, "Z"),
        (FR_SELLER, {"country": "NO"}, "G"),
        (FR_SELLER, {"country": "US", "vat_number": "US1"}, "G"),
        (FR_SELLER, {"country": None}, "Z"),  # taken to be in the seller's country
        (FRANCHISE, {"country": "FR"}, "E"),
        (FRANCHISE, {"country": "NO"}, "E"),
        (FRANCHISE, {"country": "BE", "vat_number": "BE0123456789"}, "AE"),
        # A Norwegian seller is outside the EU: a Swedish business client is an export.
        ({"country": "NO"}, {"country": "SE", "vat_number": "SE556000000001"}, "G"),
        ({"country": "NO"}, {"country": "NO"}, "Z"),
    ],
)
def test_the_zero_rate_category_follows_the_facts(
    seller: dict[str, Any], buyer: dict[str, Any], expected: str
) -> None:
    assert default_category(Decimal(0), seller, buyer) == expected
    assert default_category(Decimal("5.5"), seller, buyer) == "S"


def _line(rate: str, net: int, **stated: str) -> dict[str, Any]:
    return {"tax_rate": Decimal(rate), "net_cents": net, **stated}


def test_the_breakdown_groups_by_category_and_rate_and_a_stated_category_wins() -> None:
    lines = [
        _line("20", 1000),
        _line("0", 500),
        _line("0", 300, stated_vat_category="E", stated_vat_exemption_reason="Art. 261 CGI"),
        _line("0", 200),
    ]
    breakdown = [
        {"rate": Decimal(20), "base_cents": 1000, "tax_cents": 200},
        {"rate": Decimal(0), "base_cents": 1000, "tax_cents": 0},
    ]
    buyer = {"country": "DE", "vat_number": "DE123456789"}
    out_lines, out_breakdown = categorized(lines, breakdown, FR_SELLER, buyer)
    assert [line["vat_category"] for line in out_lines] == ["S", "AE", "E", "AE"]
    assert out_lines[1]["vat_exemption_code"] == "VATEX-EU-AE"
    assert out_lines[2]["vat_exemption_reason"] == "Art. 261 CGI"
    assert [
        (row["vat_category"], row["rate"], row["base_cents"], row["tax_cents"])
        for row in out_breakdown
    ] == [("S", Decimal(20), 1000, 200), ("AE", Decimal(0), 700, 0), ("E", Decimal(0), 300, 0)]
    # Recorded categories are kept as they are (a replay changes nothing).
    assert categorized(out_lines, out_breakdown, FRANCHISE, {}) == (out_lines, out_breakdown)


@pytest.mark.parametrize("sequence", [1, 42, 99_999, 100_000, 1_234_567])
def test_references_carry_valid_check_digits(sequence: int) -> None:
    rf = payment_reference(2026, sequence, "FR")
    assert iso11649.is_valid(rf)
    assert rf.startswith("RF")
    assert len(rf) <= 25
    kid = payment_reference(2026, sequence, "no")
    assert kid.isdigit()
    assert luhn.is_valid(kid)
    ocr = payment_reference(2026, sequence, "SE")
    assert ocr.isdigit()
    assert luhn.is_valid(ocr)
    assert ocr[-2] == str(len(ocr) % 10)  # the length digit, next to last
    assert payment_reference(2026, sequence, None).startswith("RF")


def test_references_are_unique_per_year_and_sequence_and_derived_from_the_number() -> None:
    seen = {payment_reference(year, seq, "SE") for year in (2026, 2027) for seq in range(1, 300)}
    assert len(seen) == 2 * 299
    # 2026 / 100000 and 2027 / 10000 would collide if the sequence were not padded to 5 digits.
    assert payment_reference(2026, 100_000, "NO") != payment_reference(2027, 10_000, "NO")
    assert reference_for_number("FACT-2026-00042", "FR") == payment_reference(2026, 42, "FR")
    assert reference_for_number("F2026-123456", "NO") == payment_reference(2026, 123456, "NO")


def test_older_invoices_get_their_reference_from_their_number_and_bt_111_rounds_away() -> None:
    terms = InvoiceTerms.recorded(None, "F2026-00007", {"country": "SE"})
    assert terms.payment_reference == payment_reference(2026, 7, "SE")
    assert terms.operation_category == "services"
    rate = {"tax_exchange_rate": "11.5", "accounting_currency": "NOK"}
    priced = InvoiceTerms.recorded({"payment_reference": "RF1", **rate}, "F2026-00007", {})
    assert priced.payment_reference == "RF1"
    assert priced.tax_cents_accounting(1, "EUR") == 12  # 11.5 -> 12, half away from zero
    assert priced.tax_cents_accounting(-1, "EUR") == -12
    assert priced.tax_cents_accounting(100, "NOK") is None  # already the accounting currency


def test_every_locale_has_the_e_invoicing_words() -> None:
    from fastfaktura.adapters.web.e_invoicing_labels import (
        CATEGORY_MENTIONS,
        E_INVOICING_LABELS,
        VAT_ON_DEBITS_MENTION,
    )
    from fastfaktura.adapters.web.labels import LOCALES

    assert set(E_INVOICING_LABELS) == set(LOCALES)
    keys = [set(words) for words in E_INVOICING_LABELS.values()]
    assert all(k == keys[0] for k in keys)
    assert all(set(words) == set(LOCALES) for words in CATEGORY_MENTIONS.values())
    assert set(VAT_ON_DEBITS_MENTION) == set(LOCALES)


def test_a_rate_with_two_categories_is_credited_as_one_rate() -> None:
    from fastfaktura.domain.crediting import remaining_by_rate

    breakdown = [
        {"rate": "20", "base_cents": 1000, "tax_cents": 200, "vat_category": "S"},
        {"rate": "0", "base_cents": 700, "tax_cents": 0, "vat_category": "AE"},
        {"rate": "0", "base_cents": 300, "tax_cents": 0, "vat_category": "E"},
    ]
    left = remaining_by_rate(breakdown, {"0": [200, 0]})
    assert [(item.rate, item.base_cents, item.tax_cents) for item in left] == [
        (Decimal(20), 1000, 200),
        (Decimal(0), 800, 0),
    ]
