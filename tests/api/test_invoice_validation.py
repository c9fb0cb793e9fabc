"""POST /api/v1/invoices with bad input: the field is named, and nothing is left behind
(no event, no read-model row, no invoice number consumed)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import Account, StoreProbe
from tests.helpers import assert_rejected
from tests.invoicing_support import (
    CLIENTS,
    INVOICES,
    LINE,
    create_client,
    create_invoice,
    invoice_body,
    today_utc,
)


def with_line(**changes: Any) -> dict[str, Any]:
    """The valid line with some fields changed; a value of ... removes the field."""
    line = {**LINE, **changes}
    return {k: v for k, v in line.items() if v is not ...}


# (body changes, fields named). "CLIENT" is replaced with a live client's id.
BAD_BODIES = [
    pytest.param({"client_id": "not-a-uuid"}, ["client_id"], id="client_id-not-uuid"),
    pytest.param({"client_id": 42}, ["client_id"], id="client_id-number"),
    pytest.param({"client_id": None}, ["client_id"], id="client_id-null"),
    pytest.param({"client_id": ...}, ["client_id"], id="client_id-missing"),
    pytest.param({"currency": "CHF"}, ["currency"], id="currency-chf"),
    pytest.param({"currency": "eur"}, ["currency"], id="currency-lowercase"),
    pytest.param({"currency": ...}, ["currency"], id="currency-missing"),
    pytest.param({"currency": None}, ["currency"], id="currency-null"),
    pytest.param({"lines": []}, ["lines"], id="no-lines"),
    pytest.param({"lines": [LINE] * 501}, ["lines"], id="501-lines"),
    pytest.param({"lines": {"0": LINE}}, ["lines"], id="lines-object"),
    pytest.param({"lines": "Consulting"}, ["lines"], id="lines-string"),
    pytest.param({"lines": None}, ["lines"], id="lines-null"),
    pytest.param({"lines": ...}, ["lines"], id="lines-missing"),
    pytest.param({"lines": [LINE, "x"]}, ["lines[1]"], id="line-not-object"),
    pytest.param({"lines": [with_line(description="   ")]}, ["lines[0].description"], id="blank"),
    pytest.param({"lines": [with_line(description="")]}, ["lines[0].description"], id="empty"),
    pytest.param(
        {"lines": [with_line(description=...)]}, ["lines[0].description"], id="no-description"
    ),
    pytest.param({"lines": [with_line(description="a\x00b")]}, ["lines[0].description"], id="nul"),
    pytest.param({"lines": [with_line(quantity=0)]}, ["lines[0].quantity"], id="quantity-0"),
    pytest.param({"lines": [with_line(quantity=-1)]}, ["lines[0].quantity"], id="quantity-neg"),
    pytest.param(
        {"lines": [with_line(quantity=1.00001)]}, ["lines[0].quantity"], id="quantity-5-decimals"
    ),
    pytest.param(
        {"lines": [with_line(quantity="0.00001")]}, ["lines[0].quantity"], id="quantity-5-str"
    ),
    pytest.param({"lines": [with_line(quantity="abc")]}, ["lines[0].quantity"], id="qty-abc"),
    pytest.param({"lines": [with_line(quantity="NaN")]}, ["lines[0].quantity"], id="qty-nan"),
    pytest.param({"lines": [with_line(quantity=True)]}, ["lines[0].quantity"], id="qty-bool"),
    pytest.param({"lines": [with_line(quantity=...)]}, ["lines[0].quantity"], id="qty-missing"),
    pytest.param(
        {"lines": [with_line(unit_price_cents=1.5)]}, ["lines[0].unit_price_cents"], id="price-1.5"
    ),
    pytest.param(
        {"lines": [with_line(unit_price_cents="100")]},
        ["lines[0].unit_price_cents"],
        id="price-string",
    ),
    pytest.param(
        {"lines": [with_line(unit_price_cents=None)]},
        ["lines[0].unit_price_cents"],
        id="price-null",
    ),
    pytest.param({"lines": [with_line(tax_rate=-1)]}, ["lines[0].tax_rate"], id="rate--1"),
    pytest.param({"lines": [with_line(tax_rate=100.01)]}, ["lines[0].tax_rate"], id="rate-100.01"),
    pytest.param({"lines": [with_line(tax_rate=5.555)]}, ["lines[0].tax_rate"], id="rate-3dp"),
    pytest.param({"lines": [with_line(tax_rate="x")]}, ["lines[0].tax_rate"], id="rate-string"),
    pytest.param({"due_date": "tomorrow"}, ["due_date"], id="due-not-a-date"),
    pytest.param({"due_date": "2026-02-30"}, ["due_date"], id="due-impossible"),
    pytest.param({"due_date": "2026-1-5"}, ["due_date"], id="due-short"),
    pytest.param({"due_date": 20260101}, ["due_date"], id="due-number"),
    pytest.param(
        {"lines": [with_line(unit_price_cents=100), with_line(unit_price_cents=-200)]},
        ["lines"],
        id="negative-total",
    ),
    pytest.param({"notes": "x" * 5001}, ["notes"], id="notes-too-long"),
    pytest.param({"status": "paid"}, ["status"], id="unknown-field-status"),
    pytest.param({"number": "F2026-99999"}, ["number"], id="unknown-field-number"),
    pytest.param({"lines": [with_line(net_cents=1)]}, ["lines[0].net_cents"], id="unknown-line"),
]


async def refused(
    client: AsyncTestClient[Any],
    store: StoreProbe,
    account: Account,
    body: Any,
    fields: list[str],
) -> dict[str, Any]:
    """POST /invoices with `body`: a 422 naming exactly `fields`, and nothing stored."""
    return await assert_rejected(
        client,
        store,
        "POST",
        INVOICES,
        status=422,
        fields=fields,
        headers=account.headers,
        json=body,
    )


async def test_each_bad_body_names_its_field_and_leaves_nothing_behind(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    # One business for the whole table keeps this fast; the number check at the end proves
    # that none of the rejected bodies consumed a number.
    buyer = await create_client(client, account)
    for param in BAD_BODIES:
        changes, fields = param.values
        body = {k: v for k, v in {**invoice_body(buyer["id"]), **changes}.items() if v is not ...}
        await refused(client, store, account, body, fields)
    invoice = await create_invoice(client, account, buyer["id"])
    assert invoice["number"].endswith("-00001")


async def test_due_date_before_the_issue_date_is_refused(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    buyer = await create_client(client, account)
    yesterday = (today_utc() - timedelta(days=1)).isoformat()
    await refused(
        client, store, account, invoice_body(buyer["id"], due_date=yesterday), ["due_date"]
    )
    assert (await create_invoice(client, account, buyer["id"]))["number"].endswith("-00001")


async def test_client_must_be_a_live_client_of_this_business(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    store: StoreProbe,
) -> None:
    account, other = new_account("Own Clients SARL"), new_account("Other Clients AB")
    foreign = await create_client(client, other, "Someone Else's")
    archived = await create_client(client, account, "Gone Ltd")
    response = await client.delete(f"{CLIENTS}/{archived['id']}", headers=account.headers)
    assert response.status_code == 200, response.text

    for client_id in (str(uuid4()), foreign["id"], archived["id"], str(account.business_id)):
        body = await refused(client, store, account, invoice_body(client_id), ["client_id"])
        # A foreign client is reported exactly like one that does not exist.
        if client_id == foreign["id"]:
            assert "Someone" not in str(body)

    live = await create_client(client, account, "Live Ltd")
    assert (await create_invoice(client, account, live["id"]))["number"].endswith("-00001")
    # The other business can still invoice its own client, numbered from 1 too.
    assert (await create_invoice(client, other, foreign["id"]))["number"].endswith("-00001")


async def test_every_invalid_field_is_reported_at_once(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    buyer = await create_client(client, account)
    body = {
        "client_id": buyer["id"],
        "currency": "XXX",
        "due_date": "soon",
        "colour": "blue",
        "lines": [
            with_line(quantity=0),
            dict(LINE),
            with_line(description=" ", unit_price_cents="1", tax_rate=101, extra=True),
            "not a line",
        ],
    }
    await refused(
        client,
        store,
        account,
        body,
        [
            "currency",
            "due_date",
            "colour",
            "lines[0].quantity",
            "lines[2].description",
            "lines[2].unit_price_cents",
            "lines[2].tax_rate",
            "lines[2].extra",
            "lines[3]",
        ],
    )


async def test_a_rejected_creation_consumes_no_number(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    buyer = await create_client(client, account)
    first = await create_invoice(client, account, buyer["id"])
    year = first["issue_date"][:4]
    assert first["number"] == f"F{year}-00001"
    for bad in (
        invoice_body(str(uuid4())),  # refused by the application, after parsing
        invoice_body(buyer["id"], lines=[with_line(unit_price_cents=-1)]),  # by the domain
        invoice_body(buyer["id"], currency="ZZZ"),  # by the parser
    ):
        await assert_rejected(
            client, store, "POST", INVOICES, status=422, headers=account.headers, json=bad
        )
    second = await create_invoice(client, account, buyer["id"])
    assert second["number"] == f"F{year}-00002"


async def test_limits_that_are_allowed(client: AsyncTestClient[Any], account: Account) -> None:
    """The edges of each rule are accepted: 500 lines, 4 decimals, rates 0 and 100, 2 decimals,
    a zero total, a discount line, the six currencies."""
    buyer = await create_client(client, account)
    big = await create_invoice(client, account, buyer["id"], lines=[LINE] * 500)
    assert len(big["lines"]) == 500
    assert big["total_cents"] == 500 * 12000
    edges = await create_invoice(
        client,
        account,
        buyer["id"],
        lines=[
            with_line(quantity=0.0001, unit_price_cents=5000, tax_rate=0),
            with_line(quantity="1.5", unit_price_cents=1, tax_rate=100),
            with_line(quantity=1, unit_price_cents=1000, tax_rate=12.25),
            with_line(quantity=1, unit_price_cents=-500, tax_rate=12.25),
        ],
    )
    # 0.5 -> 1 at 0 %; 1.5 -> 2 at 100 % -> 2; 500 at 12.25 % = 61.25 -> 61
    assert [ln["net_cents"] for ln in edges["lines"]] == [1, 2, 1000, -500]
    assert edges["lines"][1]["quantity"] == 1.5
    # API.md "E-invoices and legal checks": each row also names its VAT category.
    none = {"vat_exemption_reason": None, "vat_exemption_code": None}
    assert edges["tax_breakdown"] == [
        {"rate": 100, "base_cents": 2, "tax_cents": 2, "vat_category": "S", **none},
        {"rate": 12.25, "base_cents": 500, "tax_cents": 61, "vat_category": "S", **none},
        {"rate": 0, "base_cents": 1, "tax_cents": 0, "vat_category": "Z", **none},
    ]
    assert edges["total_cents"] == 503 + 63
    zero = await create_invoice(
        client,
        account,
        buyer["id"],
        lines=[with_line(unit_price_cents=100), with_line(unit_price_cents=-100)],
    )
    assert zero["total_cents"] == 0
    assert zero["amount_due_cents"] == 0
    for currency in ("EUR", "USD", "GBP", "NOK", "SEK", "DKK"):
        assert (await create_invoice(client, account, buyer["id"], currency=currency))[
            "currency"
        ] == currency


async def test_a_negative_total_is_reported_with_the_other_invalid_fields(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    buyer = await create_client(client, account)
    await refused(
        client,
        store,
        account,
        {
            **invoice_body(buyer["id"], currency="XXX", colour="red"),
            "lines": [with_line(unit_price_cents=100), with_line(unit_price_cents=-200)],
        },
        ["currency", "lines", "colour"],
    )


async def test_amounts_too_large_to_store_are_refused_and_projection_keeps_going(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    """quantity 10**9 times 10**12 cents passes each field's bounds, but the line is 10**21
    cents: beyond a bigint, it would poison the invoices read model for every business."""
    buyer = await create_client(client, account)
    await refused(
        client,
        store,
        account,
        invoice_body(
            buyer["id"], lines=[with_line(quantity=1_000_000_000, unit_price_cents=10**12)]
        ),
        ["lines[0]"],
    )
    await refused(
        client,
        store,
        account,
        invoice_body(
            buyer["id"], lines=[with_line(quantity=600, unit_price_cents=10**12, tax_rate=0)] * 2
        ),
        ["lines"],
    )
    # The largest invoice allowed is stored, projected and read back exactly.
    largest = await create_invoice(
        client,
        account,
        buyer["id"],
        lines=[with_line(quantity=1000, unit_price_cents=10**12, tax_rate=0)],
    )
    assert largest["total_cents"] == 10**15
    fetched = await client.get(f"{INVOICES}/{largest['id']}", headers=account.headers)
    assert fetched.status_code == 200, fetched.text
    assert fetched.json()["total_cents"] == 10**15
    assert largest["number"].endswith("-00001")


async def test_state_checks_are_reported_with_the_field_checks(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    """An unknown client and a past due date are found with the body's own errors, at once."""
    body = invoice_body(
        str(uuid4()),
        currency="CHF",
        due_date=(today_utc() - timedelta(days=1)).isoformat(),
        lines=[with_line(unit_price_cents=-100)],
    )
    await assert_rejected(
        client,
        store,
        "POST",
        INVOICES,
        json=body,
        headers=account.headers,
        status=422,
        fields=["client_id", "currency", "due_date", "lines"],
    )
