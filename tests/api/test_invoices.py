"""/api/v1/invoices: create, read, list, events (from the store), frozen parties, tenancy."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from fastfaktura.domain.sample_profile import SAMPLE_PROFILES
from fastfaktura.domain.series import series_id
from fastfaktura.event_reader import event_reader
from fastfaktura.readmodels.models import InvoicesReadModel
from fastfaktura.readmodels.rebuild import rebuild
from tests.conftest import Account
from tests.helpers import assert_problem, problem_fields
from tests.invoicing_support import (
    BUSINESS,
    CLIENTS,
    INVOICES,
    create_client,
    create_invoice,
    get_json,
    invoice_body,
    today_utc,
)

INVOICE_FIELDS = {
    "id",
    "number",
    "client_id",
    "currency",
    "status",
    "issue_date",
    "due_date",
    "notes",
    "lines",
    "subtotal_cents",
    "tax_cents",
    "total_cents",
    "tax_breakdown",
    "amount_paid_cents",
    "amount_due_cents",
    "amount_credited_cents",  # API.md "Credit notes": the invoice's new field
    # API.md "E-invoices and legal checks" and "Payment references": the new fields.
    "operation_category",
    "delivery_address",
    "tax_exchange_rate",
    "accounting_currency",
    "tax_cents_accounting",
    "payment_reference",
    "seller",
    "buyer",
    "public_url",
    "created_at",
    "updated_at",
}
EVENT_FIELDS = {"id", "type", "version", "occurred_at", "data"}
# API.md's lifecycle table: the only event types an invoice stream may show.
LIFECYCLE_TYPES = {
    "created",
    "sent",
    "reminder_sent",
    "opened",
    "overdue",
    "payment_recorded",
    "paid",
    "cancelled",
}

MIXED_LINES: list[dict[str, Any]] = [
    {"description": "Design", "quantity": 2, "unit_price_cents": 15000, "tax_rate": 20},
    {"description": "Loyalty discount", "quantity": 1, "unit_price_cents": -5000, "tax_rate": 20},
    {"description": "Books", "quantity": 3.3333, "unit_price_cents": 1999, "tax_rate": 5.5},
    {"description": "Postage", "quantity": 1, "unit_price_cents": 2500, "tax_rate": 0},
]


async def test_create_answers_201_with_location_and_the_full_invoice(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    account = new_account("Full Invoice SARL")
    buyer = await create_client(client, account, "Buyer SA", email="ap@buyer.example")
    before = today_utc()
    response = await client.post(
        INVOICES,
        headers=account.headers,
        json=invoice_body(buyer["id"], lines=MIXED_LINES, notes="Thanks!"),
    )
    after = today_utc()
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/json")
    invoice = response.json()
    assert response.headers["location"] == f"{INVOICES}/{invoice['id']}"
    assert set(invoice) == INVOICE_FIELDS
    UUID(invoice["id"])
    assert invoice["client_id"] == buyer["id"]
    assert invoice["currency"] == "EUR"
    assert invoice["status"] == "draft"
    assert invoice["notes"] == "Thanks!"
    issue = date.fromisoformat(invoice["issue_date"])
    assert issue in {before, after}  # the UTC date of creation
    assert invoice["number"] == f"F{issue.year}-00001"
    assert date.fromisoformat(invoice["due_date"]) == issue + timedelta(days=30)
    # Hand-checked, as in tests/unit/test_money.py (mixed invoice).
    assert [ln["net_cents"] for ln in invoice["lines"]] == [30000, -5000, 6663, 2500]
    assert invoice["lines"][2] == {
        "description": "Books",
        "quantity": 3.3333,
        "unit_price_cents": 1999,
        "tax_rate": 5.5,
        "net_cents": 6663,
        # API.md "E-invoices and legal checks": the line's VAT category (BT-151).
        "vat_category": "S",
        "vat_exemption_reason": None,
        "vat_exemption_code": None,
    }
    assert [ln["description"] for ln in invoice["lines"]] == [
        "Design",
        "Loyalty discount",
        "Books",
        "Postage",
    ]
    # API.md "E-invoices and legal checks": each row also names its VAT category.
    none = {"vat_exemption_reason": None, "vat_exemption_code": None}
    assert invoice["tax_breakdown"] == [
        {"rate": 20, "base_cents": 25000, "tax_cents": 5000, "vat_category": "S", **none},
        {"rate": 5.5, "base_cents": 6663, "tax_cents": 366, "vat_category": "S", **none},
        {"rate": 0, "base_cents": 2500, "tax_cents": 0, "vat_category": "Z", **none},
    ]
    assert (invoice["subtotal_cents"], invoice["tax_cents"], invoice["total_cents"]) == (
        34163,
        5366,
        39529,
    )
    assert invoice["amount_paid_cents"] == 0
    assert invoice["amount_due_cents"] == invoice["total_cents"]
    assert invoice["seller"]["name"] == "Full Invoice SARL"
    assert invoice["buyer"]["id"] == buyer["id"]
    assert invoice["buyer"]["name"] == "Buyer SA"
    assert invoice["buyer"]["email"] == "ap@buyer.example"

    # GET answers the same invoice, with its events.
    fetched = await get_json(client, account, response.headers["location"])
    events = fetched.pop("events")
    assert fetched == invoice
    assert [e["type"] for e in events] == ["created"]


def _token(public_url: str) -> str:
    assert public_url.startswith("http://testserver/"), public_url
    token = public_url.rstrip("/").rsplit("/", 1)[-1]
    assert token, public_url
    return token


async def test_public_url_holds_an_unguessable_token_that_is_not_the_id(
    client: AsyncTestClient[Any], account: Account
) -> None:
    buyer = await create_client(client, account)
    tokens = set()
    for _ in range(3):
        invoice = await create_invoice(client, account, buyer["id"])
        token = _token(invoice["public_url"])
        assert invoice["id"] not in invoice["public_url"]
        assert invoice["id"].replace("-", "") not in invoice["public_url"].replace("-", "")
        # URL-safe base64 of at least 16 random bytes (>= 128 bits).
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) * 8 >= 128
        tokens.add(token)
    assert len(tokens) == 3


async def test_due_date_defaults_to_the_business_payment_terms_and_can_be_given(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    account = new_account("Terms AS", payment_terms_days=45)
    buyer = await create_client(client, account)
    default = await create_invoice(client, account, buyer["id"])
    issue = date.fromisoformat(default["issue_date"])
    assert date.fromisoformat(default["due_date"]) == issue + timedelta(days=45)

    same_day = await create_invoice(client, account, buyer["id"], due_date=issue.isoformat())
    assert same_day["due_date"] == issue.isoformat()
    later = (issue + timedelta(days=7)).isoformat()
    assert (await create_invoice(client, account, buyer["id"], due_date=later))["due_date"] == later

    await client.put(BUSINESS, headers=account.headers, json={"payment_terms_days": 0})
    immediate = await create_invoice(client, account, buyer["id"])
    assert immediate["due_date"] == immediate["issue_date"]


async def test_list_is_a_page_envelope_newest_first(
    client: AsyncTestClient[Any], account: Account
) -> None:
    buyer = await create_client(client, account)
    created = [await create_invoice(client, account, buyer["id"]) for _ in range(3)]
    newest_first = [inv["id"] for inv in reversed(created)]

    everything = await get_json(client, account, INVOICES)
    assert set(everything) == {"data", "page", "per_page", "total"}
    assert (everything["page"], everything["per_page"], everything["total"]) == (1, 50, 3)
    assert [inv["id"] for inv in everything["data"]] == newest_first
    assert all(set(inv) == INVOICE_FIELDS for inv in everything["data"])
    assert everything["data"][-1] == created[0]

    first = await get_json(client, account, f"{INVOICES}?per_page=2")
    second = await get_json(client, account, f"{INVOICES}?per_page=2&page=2")
    beyond = await get_json(client, account, f"{INVOICES}?per_page=2&page=3")
    assert [inv["id"] for inv in first["data"]] == newest_first[:2]
    assert [inv["id"] for inv in second["data"]] == newest_first[2:]
    assert (second["page"], second["per_page"], second["total"]) == (2, 2, 3)
    assert beyond["data"] == []
    assert beyond["total"] == 3


async def test_list_filters_by_status(
    client: AsyncTestClient[Any], account: Account, database_url: str
) -> None:
    buyer = await create_client(client, account)
    ids = {(await create_invoice(client, account, buyer["id"]))["id"] for _ in range(2)}
    drafts = await get_json(client, account, f"{INVOICES}?status=draft")
    assert {inv["id"] for inv in drafts["data"]} == ids
    assert drafts["total"] == 2
    for status in ("sent", "opened", "paid", "overdue", "cancelled"):
        other = await get_json(client, account, f"{INVOICES}?status={status}")
        assert (other["data"], other["total"]) == ([], 0), status

    # No transition exists yet to move an invoice on; set one row's status by hand to see the
    # filter pick it out (and put it back, so the read model agrees with the events again).
    moved, kept = sorted(ids)
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE rm_invoices SET status = 'cancelled' WHERE id = %s", (moved,))
    try:
        cancelled = await get_json(client, account, f"{INVOICES}?status=cancelled")
        drafts = await get_json(client, account, f"{INVOICES}?status=draft")
        everything = await get_json(client, account, INVOICES)
    finally:
        with psycopg.connect(database_url) as conn:
            conn.execute("UPDATE rm_invoices SET status = 'draft' WHERE id = %s", (moved,))
    assert ([inv["id"] for inv in cancelled["data"]], cancelled["total"]) == ([moved], 1)
    assert ([inv["id"] for inv in drafts["data"]], drafts["total"]) == ([kept], 1)
    assert everything["total"] == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=unknown", "status"),
        ("status=DRAFT", "status"),
        ("status=", "status"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=x", "page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
    ],
)
async def test_list_rejects_bad_query_parameters(
    client: AsyncTestClient[Any], account: Account, query: str, field: str
) -> None:
    response = await client.get(f"{INVOICES}?{query}", headers=account.headers)
    assert_problem(response, 422)
    assert problem_fields(response) == [field]


async def test_list_accepts_the_bounds_of_per_page(
    client: AsyncTestClient[Any], account: Account
) -> None:
    for per_page in (1, 100):
        page = await get_json(client, account, f"{INVOICES}?per_page={per_page}")
        assert page["per_page"] == per_page


# -- events -----------------------------------------------------------------------------------


async def test_events_are_the_stream_in_order_with_lifecycle_types(
    client: AsyncTestClient[Any], account: Account
) -> None:
    buyer = await create_client(client, account, "Stream Buyer", email="s@buyer.example")
    invoice = await create_invoice(client, account, buyer["id"], lines=MIXED_LINES)
    listed = await get_json(client, account, f"{INVOICES}/{invoice['id']}/events")
    assert set(listed) == {"data"}
    events = listed["data"]
    assert [e["type"] for e in events] == ["created"]
    assert {e["type"] for e in events} <= LIFECYCLE_TYPES
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    created = events[0]
    assert set(created) == EVENT_FIELDS
    UUID(created["id"])
    assert created["occurred_at"].endswith("Z") or created["occurred_at"].endswith("+00:00")
    data = created["data"]
    assert data["number"] == invoice["number"]
    assert data["total_cents"] == invoice["total_cents"] == 39529
    assert data["currency"] == "EUR"
    assert [ln["net_cents"] for ln in data["lines"]] == [30000, -5000, 6663, 2500]
    assert data["seller"]["name"] == invoice["seller"]["name"]
    assert data["buyer"]["name"] == "Stream Buyer"
    # The same events ride along with GET /invoices/{id}.
    fetched = await get_json(client, account, f"{INVOICES}/{invoice['id']}")
    assert fetched["events"] == events
    # Stable: asking again gives the same ids.
    again = await get_json(client, account, f"{INVOICES}/{invoice['id']}/events")
    assert again == listed


async def test_events_are_read_from_the_event_store_not_the_read_model(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
) -> None:
    buyer = await create_client(client, account)
    invoice = await create_invoice(client, account, buyer["id"])
    url = f"{INVOICES}/{invoice['id']}"
    events = await get_json(client, account, f"{url}/events")
    with psycopg.connect(database_url) as conn:
        deleted = conn.execute("DELETE FROM rm_invoices WHERE id = %s", (invoice["id"],))
        assert deleted.rowcount == 1
    try:
        assert_problem(await client.get(url, headers=account.headers), 404)
        listed = await get_json(client, account, INVOICES)
        assert listed["total"] == 0  # the projection really lost the row
        still = await client.get(f"{url}/events", headers=account.headers)
        assert still.status_code == 200, still.text
        assert still.json() == events
    finally:
        rebuild(event_reader(invoicing), database_url, InvoicesReadModel())
    restored = await get_json(client, account, url)
    assert restored.pop("events") == events["data"]
    assert restored == invoice


# -- seller and buyer are frozen -------------------------------------------------------------


async def test_seller_and_buyer_stay_as_they_were_at_creation(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    account = new_account(
        "Frozen Seller SARL",
        legal_name="Frozen Seller SARL",
        vat_number="FR40303265045",
        country="FR",
        email="billing@frozen.example",
    )
    buyer = await create_client(
        client,
        account,
        "Original Buyer",
        email="old@buyer.example",
        vat_number="NO999999999",
        country="NO",
    )
    invoice = await create_invoice(client, account, buyer["id"])
    seller_then = {
        "name": "Frozen Seller SARL",
        "legal_name": "Frozen Seller SARL",
        "email": "billing@frozen.example",
        "phone": None,
        # A sandbox business starts with the sample legal profile (API.md "E-invoices and
        # legal checks"); what the test gives wins over it.
        "address": SAMPLE_PROFILES["FR"]["address"],
        "country": "FR",
        "vat_number": "FR40303265045",
        "company_id": SAMPLE_PROFILES["FR"]["company_id"],
        "iban": SAMPLE_PROFILES["FR"]["iban"],
        "bic": SAMPLE_PROFILES["FR"]["bic"],
        "vat_exempt_293b": False,
        "late_payment_rate": None,
        "f_skatt": False,
        "vat_on_debits": False,  # API.md "E-invoices and legal checks": frozen too
    }
    buyer_then = {
        "id": buyer["id"],
        "name": "Original Buyer",
        "email": "old@buyer.example",
        "phone": None,
        "address": None,
        "country": "NO",
        "vat_number": "NO999999999",
        "company_id": None,
        "locale": "en",
    }
    assert invoice["seller"] == seller_then
    assert invoice["buyer"] == buyer_then

    changed = await client.put(
        BUSINESS,
        headers=account.headers,
        json={"name": "Renamed AS", "legal_name": "Renamed AS", "vat_number": "NO123456789MVA"},
    )
    assert changed.status_code == 200, changed.text
    edited = await client.put(
        f"{CLIENTS}/{buyer['id']}",
        headers=account.headers,
        json={"name": "Renamed Buyer", "email": "new@buyer.example", "vat_number": None},
    )
    assert edited.status_code == 200, edited.text

    fetched = await get_json(client, account, f"{INVOICES}/{invoice['id']}")
    assert fetched["seller"] == seller_then
    assert fetched["buyer"] == buyer_then
    created = fetched["events"][0]["data"]
    assert {k: created["seller"][k] for k in seller_then} == seller_then
    assert {k: created["buyer"][k] for k in buyer_then} == buyer_then
    listed = await get_json(client, account, INVOICES)
    assert listed["data"][0]["seller"] == seller_then

    # A new invoice takes the parties as they are now (so the freeze is not a constant).
    fresh = await create_invoice(client, account, buyer["id"])
    assert fresh["seller"]["name"] == "Renamed AS"
    assert fresh["seller"]["vat_number"] == "NO123456789MVA"
    assert fresh["buyer"]["name"] == "Renamed Buyer"
    assert fresh["buyer"]["email"] == "new@buyer.example"
    assert fresh["buyer"]["vat_number"] is None


# -- read-your-writes ------------------------------------------------------------------------


async def test_a_created_invoice_is_readable_and_listed_at_once(
    client: AsyncTestClient[Any], account: Account
) -> None:
    buyer = await create_client(client, account)
    for count in range(1, 21):
        invoice = await create_invoice(client, account, buyer["id"])
        fetched = await client.get(f"{INVOICES}/{invoice['id']}", headers=account.headers)
        assert fetched.status_code == 200, (count, fetched.text)
        assert fetched.json()["number"] == invoice["number"]
        listed = await get_json(client, account, f"{INVOICES}?per_page=1")
        assert listed["total"] == count
        assert listed["data"][0]["id"] == invoice["id"]


# -- tenancy ---------------------------------------------------------------------------------


async def test_another_business_cannot_see_an_invoice(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    owner, stranger = new_account("Owner SARL"), new_account("Stranger AB")
    buyer = await create_client(client, owner)
    invoice = await create_invoice(client, owner, buyer["id"])
    # The stranger has invoices of its own, so its lists are not trivially empty.
    own = await create_invoice(client, stranger, (await create_client(client, stranger))["id"])

    for suffix in ("", "/events"):
        foreign = await client.get(f"{INVOICES}/{invoice['id']}{suffix}", headers=stranger.headers)
        unknown = await client.get(f"{INVOICES}/{uuid4()}{suffix}", headers=stranger.headers)
        garbage = await client.get(f"{INVOICES}/not-a-uuid{suffix}", headers=stranger.headers)
        for response in (foreign, unknown, garbage):
            assert_problem(response, 404)
        assert foreign.json() == unknown.json() == garbage.json()
        assert foreign.headers["content-type"] == unknown.headers["content-type"]
        # ... while the owner reads it.
        mine = await client.get(f"{INVOICES}/{invoice['id']}{suffix}", headers=owner.headers)
        assert mine.status_code == 200

    for query in ("", "?status=draft", "?per_page=100"):
        listed = await get_json(client, stranger, INVOICES + query)
        assert [inv["id"] for inv in listed["data"]] == [own["id"]]
        assert listed["total"] == 1
        owners = await get_json(client, owner, INVOICES + query)
        assert [inv["id"] for inv in owners["data"]] == [invoice["id"]]


async def test_client_events_are_not_served_as_invoice_events(
    client: AsyncTestClient[Any], account: Account
) -> None:
    # Another aggregate's stream (a client, the business, the numbering series: all of this
    # business, some with a `created` event) is not an invoice: 404, not a leak.
    buyer = await create_client(client, account)
    invoice = await create_invoice(client, account, buyer["id"])
    series = series_id(account.business_id, int(invoice["issue_date"][:4]))
    for other in (buyer["id"], str(account.business_id), str(series)):
        for suffix in ("", "/events"):
            response = await client.get(f"{INVOICES}/{other}{suffix}", headers=account.headers)
            assert_problem(response, 404)
