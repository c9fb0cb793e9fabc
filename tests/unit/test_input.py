"""api/input.py and api/fields.py: body checks, pure. Every invalid field is reported at once."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from fastfaktura.api.errors import BadJson, BodyTooLarge
from fastfaktura.api.fields import (
    BUSINESS_FIELDS,
    BUSINESS_READ_ONLY,
    CLIENT_CREATE_FIELDS,
    CLIENT_FIELDS,
    CLIENT_READ_ONLY,
    LINE_FIELDS,
)
from fastfaktura.api.input import (
    MAX_BODY_BYTES,
    Field,
    check,
    json_object,
    nested_too_deep,
    parse_date,
    parse_timestamp,
    parse_uuid,
)
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


# -- judged as written (API.md "Limits and availability") ------------------------------------

LINE_OK = {"description": "Work", "quantity": 1, "unit_price_cents": 100, "tax_rate": 20}


def line_errors(**changes: Any) -> dict[str, str]:
    return errors_of({**LINE_OK, **changes}, LINE_FIELDS)


def from_json(raw: str) -> Any:
    """A value as the API's decoder hands it to the checks."""
    return json_object(f'{{"v": {raw}}}'.encode())["v"]


@pytest.mark.parametrize(
    "raw",
    [
        '"1e-999999999"',  # was 0 (normalize() underflowed under the default context)
        "1e-999999999",
        '"1e999999999"',  # was a decimal.Overflow, a 500
        "1e999999999",
        "1E2",
        "1.5e0",
        '"1.00000000000000000000000000001"',  # 1 after Decimal's 28-digit rounding
        '"\u0661"',
        '"\u0661.\u0665"',
        '"\u0967"',  # Devanagari 1
        '"1.\u0665"',
    ],
)
def test_a_quantity_is_judged_as_written(raw: str) -> None:
    assert set(line_errors(quantity=from_json(raw))) == {"quantity"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('"1.5"', Decimal("1.5")),
        ("1.5", Decimal("1.5")),
        ("3", Decimal("3")),
        ('"2.50000000"', Decimal("2.5000")),  # zeros beyond the 4 decimals change nothing
        ("0.0001", Decimal("0.0001")),
        ('"1000000000"', Decimal("1000000000")),
    ],
)
def test_quantities_written_plainly_are_exact(raw: str, expected: Decimal) -> None:
    quantity = check({**LINE_OK, "quantity": from_json(raw)}, LINE_FIELDS)["quantity"]
    assert quantity == expected
    assert quantity.as_tuple() == expected.as_tuple()


def test_decimal_messages_say_what_is_expected() -> None:
    assert line_errors(quantity="1e3") == {
        "quantity": "must be a decimal number written with ASCII digits, without an exponent, "
        "e.g. 1.5"
    }
    assert line_errors(quantity="0.00001") == {"quantity": "may have at most 4 decimals"}
    assert line_errors(tax_rate=from_json("5.555")) == {"tax_rate": "may have at most 2 decimals"}
    assert line_errors(quantity="1" * 51) == {
        "quantity": "must be a decimal number of at most 50 characters"
    }
    assert line_errors(quantity="1000000000.0001") == {"quantity": "must be at most 1000000000"}
    assert line_errors(quantity=Decimal("1.5")) == {"quantity": "must be a number"}


def test_integers_are_bounded_even_without_bounds_of_their_own() -> None:
    field = Field("n", "int")
    assert check({"n": 2**63 - 1}, [field]) == {"n": 2**63 - 1}
    assert errors_of({"n": 2**63}, [field]) == {"n": f"must be at most {2**63 - 1}"}
    assert errors_of({"n": -(2**63) - 1}, [field]) == {"n": f"must be at least {-(2**63)}"}
    assert errors_of({"n": from_json("1.0")}, [field]) == {"n": "must be an integer"}
    with pytest.raises(InvalidInputError) as raised:
        json_object(b'{"n": 1' + b"0" * 5000 + b"}")
    assert [e.field for e in raised.value.errors] == ["body"]


def test_dates_ids_and_timestamps_take_ascii_digits_and_one_format() -> None:
    arabic = str.maketrans(
        "0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"
    )
    assert parse_date("2026-01-31") == date(2026, 1, 31)
    for text in ("2026-01-31".translate(arabic), "2026-W05-6", "20260131", "2026-02-30"):
        assert parse_date(text) is None
    uuid = "3f2b6f0e-1111-4a4a-9999-000000000000"
    assert str(parse_uuid(uuid)) == uuid
    for text in (
        uuid.translate(arabic),
        "{" + uuid + "}",
        "urn:uuid:" + uuid,
        uuid.replace("-", ""),
    ):
        assert parse_uuid(text) is None
    assert parse_timestamp("2026-11-24T10:00:00Z") == datetime(2026, 11, 24, 10, tzinfo=UTC)
    assert parse_timestamp("2026-11-24t11:00:00.5+01:00") == datetime(
        2026, 11, 24, 10, 0, 0, 500000, tzinfo=UTC
    )
    for text in (
        "2026-11-24T10:00:00",  # no offset
        "2026-11-24 10:00",
        "2026-W48-2T10:00:00Z",
        "2026-11-24T10:00:00Z".translate(arabic),
    ):
        assert parse_timestamp(text) is None


@pytest.mark.parametrize(
    ("body", "too_deep"),
    [
        (b"[" * 32 + b"]" * 32, False),
        (b"[" * 33 + b"]" * 33, True),
        (b'{"a": ' * 32 + b"1" + b"}" * 32, False),
        (b'{"a": ' * 33 + b"1" + b"}" * 33, True),
        # Brackets inside strings, escaped quotes included, do not count.
        (b'["' + b"[" * 100 + b'"]', False),
        (b'["\\"' + b"[" * 100 + b'"]', False),
        (b'["\\\\"' + b"[" * 100, True),  # the string ends after the escaped backslash
        (b'"' + b"\\" * 101 + b"[" * 40, False),  # unterminated: all string to the end
        (b"[]" * 1000, False),
        (b"[" * 100_000 + b"]" * 100_000, True),
    ],
)
def test_nesting_depth_is_found_without_recursion(body: bytes, too_deep: bool) -> None:
    assert nested_too_deep(body) is too_deep


def test_json_deeper_than_32_levels_is_bad_json_before_the_decoder_recurses() -> None:
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"a": ' + b"[" * 32 + b"]" * 32 + b"}"):
        with pytest.raises(BadJson, match="nested deeper than 32 levels"):
            json_object(body)
    assert json_object(b'{"a": ' + b"[" * 31 + b"]" * 31 + b"}")["a"] is not None


def test_a_body_over_1_mib_is_too_large() -> None:
    assert MAX_BODY_BYTES == 1024 * 1024
    with pytest.raises(BodyTooLarge):
        json_object(b"{}" + b" " * MAX_BODY_BYTES)
    assert json_object(b"{}" + b" " * (MAX_BODY_BYTES - 2)) == {}


def test_the_depth_scan_is_fast_on_the_worst_1_mib() -> None:
    worst = [
        b"[]" * (MAX_BODY_BYTES // 2),
        b"[" * MAX_BODY_BYTES,
        b'{"a":1}' * (MAX_BODY_BYTES // 7),
        b'"",' * (MAX_BODY_BYTES // 3),
        b'"' + b'\\"' * (MAX_BODY_BYTES // 2),  # one unterminated string
    ]
    for body in worst:
        started = time.perf_counter()
        nested_too_deep(body)
        # A regression guard (a quadratic scan takes minutes), with room for a loaded machine.
        assert time.perf_counter() - started < 1.5
