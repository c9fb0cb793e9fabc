"""api/input.py and api/fields.py: body checks, pure. Every invalid field is reported at once."""

from __future__ import annotations

from typing import Any

import pytest

from fastfaktura.api.errors import BadJson
from fastfaktura.api.fields import (
    BUSINESS_FIELDS,
    BUSINESS_READ_ONLY,
    CLIENT_CREATE_FIELDS,
    CLIENT_FIELDS,
    CLIENT_READ_ONLY,
)
from fastfaktura.api.input import check, json_object
from fastfaktura.domain.errors import InvalidInputError


def errors_of(data: dict[str, Any], fields: Any, read_only: Any = ()) -> dict[str, str]:
    with pytest.raises(InvalidInputError) as raised:
        check(data, fields, read_only=read_only)
    return {e.field: e.message for e in raised.value.errors}


def test_json_object_accepts_only_a_json_object() -> None:
    assert json_object(b' {"a": 1} ') == {"a": 1}
    for bad in (b"", b"  ", b"{", b"nul", b'{"a": 1,}', b"\xff"):
        with pytest.raises(BadJson):
            json_object(bad)
    for not_object in (b"[]", b"1", b'"x"', b"null", b"true"):
        with pytest.raises(InvalidInputError) as raised:
            json_object(not_object)
        assert [e.field for e in raised.value.errors] == ["body"]


def test_client_create_requires_a_name_but_an_update_does_not() -> None:
    assert errors_of({}, CLIENT_CREATE_FIELDS) == {"name": "is required"}
    assert check({}, CLIENT_FIELDS) == {}
    assert check({"email": None}, CLIENT_FIELDS) == {"email": None}


def test_check_reports_every_invalid_field_at_once() -> None:
    errors = errors_of(
        {
            "name": " ",
            "email": "x",
            "phone": "1",
            "country": "ZZ",
            "locale": "de",
            "tags": ["ok", 3],
            "id": "x",
            "other": 1,
        },
        CLIENT_CREATE_FIELDS,
        CLIENT_READ_ONLY,
    )
    assert set(errors) == {
        "name",
        "email",
        "phone",
        "country",
        "locale",
        "tags[1]",
        "id",
        "other",
    }
    assert errors["id"] == "is read-only"
    assert errors["other"] == "is not a known field"
    assert errors["name"] == "may not be blank"


def test_check_normalises_what_it_accepts() -> None:
    clean = check(
        {
            "name": "  Acme ",
            "country": "no",
            "tags": [" b", "a", "b "],
            "vat_number": "no 123 456 789 mva",
            "locale": " nb ",
        },
        CLIENT_CREATE_FIELDS,
    )
    assert clean == {
        "name": "Acme",
        "country": "NO",
        "tags": ["b", "a"],
        "vat_number": "NO123456789MVA",
        "locale": "nb",
    }


@pytest.mark.parametrize("value", ["a\x00b", "bell\x07", "esc\x1b[31m", "del\x7f", "\x00"])
def test_control_characters_are_refused_in_text_and_tags(value: str) -> None:
    assert set(errors_of({"name": value}, CLIENT_FIELDS)) == {"name"}
    assert set(errors_of({"tags": ["fine", value]}, CLIENT_FIELDS)) == {"tags[1]"}


def test_line_breaks_and_tabs_are_kept_in_text() -> None:
    assert check({"address": "1 Main St\r\n\tSuite 2"}, CLIENT_FIELDS) == {
        "address": "1 Main St\r\n\tSuite 2"
    }


@pytest.mark.parametrize(
    "iban",
    ["FR7630006000011234567890189", "NO9386011117947", "GB82 WEST 1234 5698 7654 32"],
)
def test_valid_ibans_pass_compacted(iban: str) -> None:
    assert check({"iban": iban.lower()}, BUSINESS_FIELDS) == {"iban": iban.replace(" ", "")}


@pytest.mark.parametrize(
    "iban",
    [
        "FR7630006000011234567890188",
        "NO9386011117948",
        "FR76",
        "7630006000011234567890189FR",
        "FR76é0006000011234567890189",
        "FR76٣0006000011234567890189",
        "FR763000600001123456789018Ⅻ",
        "FR76-3000-6000-0112-3456-7890-189",
    ],
)
def test_invalid_ibans_are_refused_not_crashed_on(iban: str) -> None:
    assert set(errors_of({"iban": iban}, BUSINESS_FIELDS)) == {"iban"}


@pytest.mark.parametrize("bic", ["AGRIFRPP", "agrifrppxxx", "DEUTDEFF500"])
def test_valid_bics_pass(bic: str) -> None:
    assert check({"bic": bic}, BUSINESS_FIELDS) == {"bic": bic.upper()}


@pytest.mark.parametrize("bic", ["AGRIFRP", "AGRIFRPPX", "1GRIFRPP", "ÅGRIFRPP", "AGRIFRP½"])
def test_invalid_bics_are_refused(bic: str) -> None:
    assert set(errors_of({"bic": bic}, BUSINESS_FIELDS)) == {"bic"}


def test_business_read_only_and_non_nullable_fields() -> None:
    errors = errors_of(
        {
            "mode": "live",
            "id": None,
            "created_at": None,
            "updated_at": None,
            "currency": None,
            "locale": None,
            "payment_terms_days": None,
            "invoice_prefix": None,
            "name": None,
        },
        BUSINESS_FIELDS,
        BUSINESS_READ_ONLY,
    )
    assert {f for f, m in errors.items() if m == "is read-only"} == {
        "mode",
        "id",
        "created_at",
        "updated_at",
    }
    assert {f for f, m in errors.items() if m == "may not be null"} == {
        "currency",
        "locale",
        "payment_terms_days",
        "invoice_prefix",
        "name",
    }


@pytest.mark.parametrize(("value", "ok"), [(0, True), (365, True), (-1, False), (366, False)])
def test_payment_terms_are_0_to_365_days(value: int, ok: bool) -> None:
    if ok:
        assert check({"payment_terms_days": value}, BUSINESS_FIELDS) == {
            "payment_terms_days": value
        }
    else:
        assert set(errors_of({"payment_terms_days": value}, BUSINESS_FIELDS)) == {
            "payment_terms_days"
        }
