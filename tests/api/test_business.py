"""GET|PUT /api/v1/business: merge semantics, null clearing, read-your-writes, validation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from fastfaktura.domain.sample_profile import SAMPLE_PROFILES
from tests.conftest import Account, StoreProbe
from tests.helpers import assert_rejected

BUSINESS = "/api/v1/business"
VALID_IBAN = "FR7630006000011234567890189"
FULL_PROFILE: dict[str, Any] = {
    "name": "Atelier Dupont",
    "legal_name": "Atelier Dupont SARL",
    "email": "billing@dupont.example",
    "phone": "+33612345678",
    "address": "1 rue de la Paix\n75002 Paris",
    "country": "FR",
    "vat_number": "FR40303265045",
    "company_id": "303265045",
    "iban": VALID_IBAN,
    "bic": "AGRIFRPP",
    "currency": "EUR",
    "locale": "fr",
    "payment_terms_days": 45,
    "invoice_prefix": "AD-",
}
RESPONSE_FIELDS = {
    "id",
    *FULL_PROFILE,
    "vat_exempt_293b",
    "late_payment_rate",
    "f_skatt",
    "credit_note_prefix",  # API.md "Credit notes": the business setting, default A
    "vat_on_debits",  # API.md "E-invoices and legal checks": default false
    "operation_category",  # default services
    "mode",
    "created_at",
    "updated_at",
}


async def _get(client: AsyncTestClient[Any], account: Account) -> dict[str, Any]:
    response = await client.get(BUSINESS, headers=account.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _put(client: AsyncTestClient[Any], account: Account, body: Any) -> dict[str, Any]:
    response = await client.put(BUSINESS, headers=account.headers, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_new_business_has_the_documented_defaults(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    account = new_account("Defaults Ltd")
    profile = await _get(client, account)
    assert set(profile) == RESPONSE_FIELDS
    assert profile["id"] == str(account.business_id)
    assert profile["name"] == "Defaults Ltd"
    assert profile["mode"] == "sandbox"
    assert profile["payment_terms_days"] == 30
    assert profile["currency"] == "EUR"
    assert profile["locale"] == "en"
    assert profile["invoice_prefix"] == "F"
    assert (profile["vat_on_debits"], profile["operation_category"]) == (False, "services")
    assert (profile["vat_exempt_293b"], profile["late_payment_rate"], profile["f_skatt"]) == (
        False,
        None,
        False,
    )
    for field in ("legal_name", "email", "phone"):
        assert profile[field] is None
    # API.md "E-invoices and legal checks": a new sandbox business starts with a complete
    # sample legal profile (France's by default), so that it can send at once.
    assert {k: profile[k] for k in SAMPLE_PROFILES["FR"]} == SAMPLE_PROFILES["FR"]
    assert profile["country"] == "FR"
    assert profile["created_at"].endswith("Z")
    assert profile["created_at"] == profile["updated_at"]


async def test_live_business_reports_live_mode(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    account = new_account("Live Business", mode="live")
    assert (await _get(client, account))["mode"] == "live"


async def test_put_sets_every_editable_field_and_get_reads_it_back_at_once(
    client: AsyncTestClient[Any], account: Account
) -> None:
    before = await _get(client, account)
    updated = await _put(client, account, FULL_PROFILE)
    for field, value in FULL_PROFILE.items():
        assert updated[field] == value, field
    assert updated["id"] == before["id"]
    assert updated["mode"] == "sandbox"
    assert updated["created_at"] == before["created_at"]
    assert datetime.fromisoformat(updated["updated_at"]) > datetime.fromisoformat(
        before["updated_at"]
    )
    # Read-your-writes: the very next GET shows the write, identical to the PUT's answer.
    assert await _get(client, account) == updated


async def test_put_merges_omitted_fields_keep_their_value(
    client: AsyncTestClient[Any], account: Account
) -> None:
    await _put(client, account, FULL_PROFILE)
    updated = await _put(client, account, {"payment_terms_days": 10, "locale": "sv"})
    expected = {**FULL_PROFILE, "payment_terms_days": 10, "locale": "sv"}
    assert {field: updated[field] for field in FULL_PROFILE} == expected
    assert await _get(client, account) == updated


async def test_put_null_clears_nullable_fields_and_keeps_the_others(
    client: AsyncTestClient[Any], account: Account
) -> None:
    await _put(client, account, FULL_PROFILE)
    cleared = ["legal_name", "email", "phone", "address", "country", "vat_number", "iban", "bic"]
    updated = await _put(client, account, dict.fromkeys(cleared))
    for field in cleared:
        assert updated[field] is None, field
    for field in set(FULL_PROFILE) - set(cleared):
        assert updated[field] == FULL_PROFILE[field], field
    assert await _get(client, account) == updated


async def test_put_normalises_codes(client: AsyncTestClient[Any], account: Account) -> None:
    updated = await _put(
        client,
        account,
        {
            "iban": "fr76 3000 6000 0112 3456 7890 189",
            "bic": "agrifrppxxx",
            "country": "fr",
            "vat_number": "fr 40 303265045",
            "name": "  Spaced Name  ",
        },
    )
    assert updated["iban"] == VALID_IBAN
    assert updated["bic"] == "AGRIFRPPXXX"
    assert updated["country"] == "FR"
    assert updated["vat_number"] == "FR40303265045"
    assert updated["name"] == "Spaced Name"


async def test_put_that_changes_nothing_records_no_event(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    first = await _put(client, account, {"email": "same@example.com"})
    before = store.snapshot()
    again = await _put(client, account, {"email": "same@example.com"})
    empty = await _put(client, account, {})
    assert store.snapshot()["events"] == before["events"]
    assert again == first == empty


async def test_put_rejects_read_only_and_unknown_fields_naming_each(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    body = {
        "id": "00000000-0000-0000-0000-000000000000",
        "mode": "live",
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2020-01-01T00:00:00Z",
        "colour": "blue",
        "name": "Still Valid Name",
    }
    problem = await assert_rejected(
        client,
        store,
        "PUT",
        BUSINESS,
        status=422,
        fields=["id", "mode", "created_at", "updated_at", "colour"],
        headers=account.headers,
        json=body,
    )
    messages = {e["field"]: e["message"] for e in problem["errors"]}
    assert "read-only" in messages["mode"]
    assert "not a known field" in messages["colour"]
    profile = await _get(client, account)
    assert (profile["name"], profile["mode"]) == ("Test Business", "sandbox")


BAD_VALUES: list[tuple[str, Any]] = [
    ("iban", "FR7630006000011234567890188"),  # check digits do not match
    ("iban", "FR76"),
    ("iban", "7630006000011234567890189FR"),
    ("iban", "FR76é0006000011234567890189"),
    ("iban", "FR76²0006000011234567890189"),
    ("iban", 7630006000011234567890189),
    ("bic", "AGRI"),
    ("bic", "AGRIFRPPX"),
    ("bic", "1234FRPP"),
    ("bic", "ÉÉÉÉFRPP"),
    ("currency", "XXX"),
    ("currency", "eur"),
    ("currency", None),
    ("locale", "de"),
    ("locale", "FR"),
    ("locale", None),
    ("payment_terms_days", -1),
    ("payment_terms_days", 366),
    ("payment_terms_days", "30"),
    ("payment_terms_days", 30.5),
    ("payment_terms_days", True),
    ("payment_terms_days", None),
    ("invoice_prefix", "F/2026"),
    ("invoice_prefix", "PREFIX-TOO-LONG"),
    ("invoice_prefix", ""),
    ("invoice_prefix", "F 1"),
    ("invoice_prefix", None),
    ("credit_note_prefix", "A/2026"),
    ("credit_note_prefix", "PREFIX-TOO-LONG"),
    ("credit_note_prefix", ""),
    ("credit_note_prefix", None),
    ("email", "not-an-email"),
    ("email", "a@b"),
    ("email", "two@@example.com"),
    ("email", "spa ce@example.com"),
    ("email", 42),
    ("phone", "0612345678"),
    ("phone", "+0612345678"),
    ("phone", "+1"),
    ("phone", "+1234567890123456"),
    ("phone", "+33 6 12 34 56 78"),
    ("country", "XX"),
    ("country", "FRA"),
    ("country", "F"),
    ("country", 33),
    ("name", ""),
    ("name", "   "),
    ("name", None),
    ("name", 5),
    ("name", "x" * 201),
    ("legal_name", ["a"]),
    ("address", "line\x00two"),
    ("legal_name", "bell\x07"),
]


@pytest.mark.parametrize(("field", "value"), BAD_VALUES)
async def test_put_rejects_an_invalid_value_naming_the_field(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe, field: str, value: Any
) -> None:
    await _put(client, account, FULL_PROFILE)
    await assert_rejected(
        client,
        store,
        "PUT",
        BUSINESS,
        status=422,
        fields=[field],
        headers=account.headers,
        json={field: value, "address": "valid address"} if field != "address" else {field: value},
    )
    profile = await _get(client, account)
    assert {f: profile[f] for f in FULL_PROFILE} == FULL_PROFILE


async def test_put_lists_every_invalid_field_at_once(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    body = {
        "name": "",
        "email": "nope",
        "phone": "12",
        "country": "ZZ",
        "iban": "FR00",
        "bic": "X",
        "currency": "BTC",
        "locale": "de",
        "payment_terms_days": 1000,
        "invoice_prefix": "!!",
        "mode": "live",
        "unknown": 1,
    }
    await assert_rejected(
        client,
        store,
        "PUT",
        BUSINESS,
        status=422,
        fields=list(body),
        headers=account.headers,
        json=body,
    )
