"""domain/rules.py: the value rules shared by the aggregates and the API."""

from __future__ import annotations

import pytest

from fastfaktura.domain.rules import (
    BUSINESS_MODES,
    COUNTRY_CODES,
    CURRENCIES,
    LOCALES,
    is_country,
    is_e164,
    is_email,
    is_invoice_prefix,
)


def test_enumerations_are_the_documented_ones() -> None:
    assert set(LOCALES) == {"fr", "en", "nb", "sv"}
    assert set(CURRENCIES) == {"EUR", "USD", "GBP", "NOK", "SEK", "DKK"}
    assert set(BUSINESS_MODES) == {"sandbox", "live"}


@pytest.mark.parametrize(
    "value",
    [
        "billing@example.com",
        "first.last+tag@sub.example.co.uk",
        "x@a-b.no",
        "o'brien@example.ie",
        "UPPER@EXAMPLE.COM",
    ],
)
def test_valid_email_addresses_pass(value: str) -> None:
    assert is_email(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "plain",
        "@example.com",
        "a@",
        "a@example",
        "a@@example.com",
        "a b@example.com",
        "a@exa mple.com",
        "a@-example.com",
        "a@example-.com",
        "a@example..com",
        "a@example.com\n",
        "a@example.com ",
        "x" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_invalid_email_addresses_fail(value: str) -> None:
    assert not is_email(value)


@pytest.mark.parametrize("value", ["+4791234567", "+33612345678", "+12", "+123456789012345"])
def test_e164_numbers_pass(value: str) -> None:
    assert is_e164(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "+",
        "+1",
        "+1234567890123456",
        "4791234567",
        "+0791234567",
        "+47 91234567",
        "+47-912-34567",
        "+4791234567\n",
        "+٤٧٩١٢٣٤٥٦٧",  # non-ASCII digits
        "++4791234567",
    ],
)
def test_non_e164_numbers_fail(value: str) -> None:
    assert not is_e164(value)


def test_country_codes_are_iso_alpha_2_upper_case() -> None:
    for code in ("FR", "NO", "SE", "DK", "GB", "US", "DE"):
        assert is_country(code)
    for code in ("fr", "XX", "UK", "FRA", "", "EU", "F"):
        assert not is_country(code)
    assert len(COUNTRY_CODES) == 249
    assert all(len(code) == 2 and code.isupper() for code in COUNTRY_CODES)


@pytest.mark.parametrize("value", ["F", "INV-", "A_B", "0123456789", ""])
def test_invoice_prefixes_of_up_to_ten_safe_characters_pass(value: str) -> None:
    assert is_invoice_prefix(value)


@pytest.mark.parametrize("value", ["F/", "F 1", "01234567890", "Fé", "F\n", "F.", "F#"])
def test_other_invoice_prefixes_fail(value: str) -> None:
    assert not is_invoice_prefix(value)
