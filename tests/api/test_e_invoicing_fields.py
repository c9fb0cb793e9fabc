"""The e-invoicing fields on the real database, through the API (API.md "E-invoices and legal
checks", "Payment references"): the business's settings, an invoice's terms, BT-111, the VAT
category of each line and the payment reference; bad input answers 422 naming the field and
stores nothing."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from litestar.testing import AsyncTestClient
from stdnum import iso11649, luhn

from tests.conftest import Account, StoreProbe
from tests.helpers import assert_rejected
from tests.invoicing_support import (
    BUSINESS,
    INVOICES,
    create_client,
    create_invoice,
    get_json,
    invoice_body,
)

LINES: list[dict[str, Any]] = [
    {"description": "Conseil", "quantity": "2.5", "unit_price_cents": 33333, "tax_rate": 20},
    {"description": "Livraison UE", "quantity": 1, "unit_price_cents": 50000, "tax_rate": 0},
]


def _bt111(tax_cents: int, rate: str) -> int:
    return int((tax_cents * Decimal(rate)).to_integral_value(rounding=ROUND_HALF_UP))


async def test_create_and_edit_record_the_terms_categories_and_reference(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    account = new_account("Atelier Terms", country="FR", currency="EUR")
    response = await client.put(
        BUSINESS,
        headers=account.headers,
        json={"operation_category": "goods", "vat_on_debits": True},
    )
    assert response.status_code == 200, response.text
    business = response.json()
    assert (business["operation_category"], business["vat_on_debits"]) == ("goods", True)
    assert (await get_json(client, account, BUSINESS))["vat_on_debits"] is True

    buyer = await create_client(
        client, account, "Kunde GmbH", country="DE", vat_number="DE123456789"
    )
    created = await create_invoice(
        client,
        account,
        buyer["id"],
        currency="NOK",
        lines=LINES,
        tax_exchange_rate="0.085123",
        delivery_address="Lager 3\nHafenstr. 1\n20457 Hamburg",
    )
    assert created["operation_category"] == "goods"  # the business's default
    assert created["delivery_address"] == "Lager 3\nHafenstr. 1\n20457 Hamburg"
    assert created["tax_exchange_rate"] == "0.085123"
    assert created["accounting_currency"] == "EUR"
    assert created["tax_cents_accounting"] == _bt111(created["tax_cents"], "0.085123")
    assert [line["vat_category"] for line in created["lines"]] == ["S", "AE"]
    assert created["lines"][1]["vat_exemption_code"] == "VATEX-EU-AE"
    assert [(row["vat_category"], row["rate"]) for row in created["tax_breakdown"]] == [
        ("S", 20),
        ("AE", 0),
    ]
    reference = created["payment_reference"]
    assert iso11649.is_valid(reference)
    assert reference.endswith(created["number"][-10:-6] + created["number"][-5:])
    assert created["seller"]["vat_on_debits"] is True
    # The read model answers the same as the write.
    read = await get_json(client, account, f"{INVOICES}/{created['id']}")
    assert {k: v for k, v in read.items() if k not in ("events", "updated_at")} == {
        k: v for k, v in created.items() if k != "updated_at"
    }
    events = await get_json(client, account, f"{INVOICES}/{created['id']}/events")
    terms = events["data"][0]["data"]["terms"]
    assert terms["payment_reference"] == reference
    assert terms["tax_exchange_rate"] == "0.085123"

    lines = [
        {**LINES[0]},
        {**LINES[1], "vat_category": "E", "vat_exemption_reason": "Exonération, art. 261 CGI"},
    ]
    response = await client.put(
        f"{INVOICES}/{created['id']}",
        headers=account.headers,
        json={"operation_category": "mixed", "tax_exchange_rate": None, "lines": lines},
    )
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["operation_category"] == "mixed"
    assert edited["delivery_address"] == created["delivery_address"]  # merged: kept
    assert (edited["tax_exchange_rate"], edited["tax_cents_accounting"]) == (None, None)
    assert edited["payment_reference"] == reference  # never changes
    assert edited["lines"][1]["vat_category"] == "E"
    assert edited["lines"][1]["vat_exemption_reason"] == "Exonération, art. 261 CGI"
    # An edit without lines keeps what they stated.
    response = await client.put(
        f"{INVOICES}/{created['id']}", headers=account.headers, json={"notes": "Merci"}
    )
    assert response.json()["lines"][1]["vat_category"] == "E"


async def test_references_follow_the_seller_country_and_are_unique(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    found: dict[str, list[str]] = {}
    for country in ("NO", "SE", "DK"):
        account = new_account(f"Seller {country}", country=country, currency="EUR")
        buyer = await create_client(client, account, "Buyer", country=country)
        invoices = [await create_invoice(client, account, buyer["id"]) for _ in range(3)]
        found[country] = [invoice["payment_reference"] for invoice in invoices]
        assert len(set(found[country])) == 3
    assert all(kid.isdigit() and luhn.is_valid(kid) for kid in found["NO"])
    for ocr in found["SE"]:
        assert ocr.isdigit()
        assert luhn.is_valid(ocr)
        assert ocr[-2] == str(len(ocr) % 10)
    assert all(iso11649.is_valid(rf) for rf in found["DK"])


async def test_bad_e_invoicing_fields_answer_422_naming_each_and_store_nothing(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    buyer = await create_client(client, account, "Buyer")
    lines = [
        {"description": "A", "quantity": 1, "unit_price_cents": 100, "tax_rate": 20,
         "vat_category": "AE"},
        {"description": "B", "quantity": 1, "unit_price_cents": 100, "tax_rate": 0,
         "vat_category": "Z", "vat_exemption_reason": "Why"},
        {"description": "C", "quantity": 1, "unit_price_cents": 100, "tax_rate": 0,
         "vat_category": "X"},
    ]  # fmt: skip
    body = invoice_body(
        buyer["id"],
        lines=lines,
        operation_category="food",
        tax_exchange_rate="1.1234567",
        delivery_address=" ",
    )
    await assert_rejected(
        client,
        store,
        "POST",
        INVOICES,
        status=422,
        fields=[
            "lines[0].vat_category",
            "lines[1].vat_exemption_reason",
            "lines[2].vat_category",
            "operation_category",
            "tax_exchange_rate",
            "delivery_address",
        ],
        headers=account.headers,
        json=body,
    )
    await assert_rejected(
        client,
        store,
        "POST",
        INVOICES,
        status=422,
        fields=["tax_exchange_rate"],
        headers=account.headers,
        json=invoice_body(buyer["id"], tax_exchange_rate="0"),
    )
    draft = await create_invoice(client, account, buyer["id"])
    await assert_rejected(
        client,
        store,
        "PUT",
        f"{INVOICES}/{draft['id']}",
        status=422,
        fields=["tax_exchange_rate"],
        headers=account.headers,
        json={"tax_exchange_rate": -1},
    )
    await assert_rejected(
        client,
        store,
        "PUT",
        BUSINESS,
        status=422,
        fields=["operation_category", "vat_on_debits"],
        headers=account.headers,
        json={"operation_category": "both", "vat_on_debits": "yes"},
    )
