"""PUT /invoices/{id} (API.md "Drafts"): a draft is edited (merged, re-priced, its parties
frozen again, number and issue date kept, `changed` recorded); anything else is refused with
nothing stored. On the real database, through the API, with the audit and a rebuild."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from fastfaktura.event_reader import event_reader
from fastfaktura.readmodels.audit import compare
from fastfaktura.readmodels.models import READ_MODELS, InvoicesReadModel
from fastfaktura.readmodels.rebuild import rebuild
from tests.conftest import Account, StoreProbe
from tests.helpers import assert_rejected, settle
from tests.invoicing_support import (
    BUSINESS,
    CLIENTS,
    INVOICES,
    create_client,
    create_invoice,
    get_json,
    today_utc,
)

# 2.5 x 39.99 = 99.975 -> 99.98 at 20 % (VAT 20.00 after rounding 19.996); 12.50 at 5.5 %
# (VAT 0.6875 -> 0.69): subtotal 112.48, VAT 20.69, total 133.17.
EDITED_LINES: list[dict[str, Any]] = [
    {"description": "Audit work", "quantity": "2.5", "unit_price_cents": 3999, "tax_rate": 20},
    {"description": "Books", "quantity": 1, "unit_price_cents": 1250, "tax_rate": "5.5"},
]


async def _put(
    client: AsyncTestClient[Any], account: Account, invoice_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.put(f"{INVOICES}/{invoice_id}", headers=account.headers, json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _event_types(
    client: AsyncTestClient[Any], account: Account, invoice_id: str
) -> list[str]:
    body = await get_json(client, account, f"{INVOICES}/{invoice_id}/events")
    return [event["type"] for event in body["data"]]


async def test_an_edit_reprices_changes_client_and_due_date_and_keeps_number_and_issue_date(
    client: AsyncTestClient[Any], account: Account
) -> None:
    first = await create_client(client, account, "First Client")
    second = await create_client(client, account, "Second Client", email="ap@second.test")
    invoice = await create_invoice(client, account, first["id"], notes="Thanks")
    due = (today_utc() + timedelta(days=10)).isoformat()

    edited = await _put(
        client,
        account,
        invoice["id"],
        {"client_id": second["id"], "due_date": due, "lines": EDITED_LINES},
    )
    assert (edited["number"], edited["issue_date"]) == (invoice["number"], invoice["issue_date"])
    assert (edited["id"], edited["status"], edited["public_url"]) == (
        invoice["id"],
        "draft",
        invoice["public_url"],
    )
    assert (edited["client_id"], edited["due_date"]) == (second["id"], due)
    assert edited["buyer"]["name"] == "Second Client"
    assert edited["buyer"]["email"] == "ap@second.test"
    assert edited["notes"] == "Thanks"  # left out: kept
    assert [line["net_cents"] for line in edited["lines"]] == [9998, 1250]
    assert (edited["subtotal_cents"], edited["tax_cents"], edited["total_cents"]) == (
        11248,
        2069,
        13317,
    )
    assert edited["amount_due_cents"] == 13317
    # API.md "E-invoices and legal checks": each row also names its VAT category.
    standard = {"vat_category": "S", "vat_exemption_reason": None, "vat_exemption_code": None}
    assert edited["tax_breakdown"] == [
        {"rate": 20, "base_cents": 9998, "tax_cents": 2000, **standard},
        {"rate": 5.5, "base_cents": 1250, "tax_cents": 69, **standard},
    ]
    # The answer is what the read model and the event store now say.
    fetched = await get_json(client, account, f"{INVOICES}/{invoice['id']}")
    assert {k: v for k, v in fetched.items() if k != "events"} == edited
    assert [e["type"] for e in fetched["events"]] == ["created", "changed"]
    listed = await get_json(client, account, f"{INVOICES}?status=draft")
    assert [(i["id"], i["total_cents"]) for i in listed["data"]] == [(invoice["id"], 13317)]

    # `lines` is replaced whole; null clears the notes; a null due date is the default again.
    again = await _put(
        client,
        account,
        invoice["id"],
        {"lines": EDITED_LINES[1:], "notes": None, "due_date": None, "currency": "NOK"},
    )
    assert [line["description"] for line in again["lines"]] == ["Books"]
    assert (again["total_cents"], again["notes"], again["currency"]) == (1319, None, "NOK")
    assert again["due_date"] == (today_utc() + timedelta(days=30)).isoformat()
    assert again["client_id"] == second["id"]  # left out: kept
    assert await _event_types(client, account, invoice["id"]) == ["created", "changed", "changed"]


async def test_each_edit_freezes_the_seller_and_buyer_as_they_are_then(
    client: AsyncTestClient[Any], account: Account
) -> None:
    buyer = await create_client(client, account, "Buyer Before")
    invoice = await create_invoice(client, account, buyer["id"])
    changed = await client.put(
        BUSINESS, headers=account.headers, json={"legal_name": "Seller After SAS"}
    )
    assert changed.status_code == 200, changed.text
    renamed = await client.put(
        f"{CLIENTS}/{buyer['id']}", headers=account.headers, json={"name": "Buyer After"}
    )
    assert renamed.status_code == 200, renamed.text
    unchanged = await get_json(client, account, f"{INVOICES}/{invoice['id']}")
    assert unchanged["seller"]["legal_name"] != "Seller After SAS"  # frozen at creation
    assert unchanged["buyer"]["name"] == "Buyer Before"

    edited = await _put(client, account, invoice["id"], {"notes": "Frozen again"})
    assert edited["seller"]["legal_name"] == "Seller After SAS"
    assert edited["buyer"]["name"] == "Buyer After"
    assert edited["total_cents"] == invoice["total_cents"]  # lines left out: kept, same price
    assert edited["lines"] == invoice["lines"]


async def test_anything_but_a_draft_is_a_409_and_records_nothing(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    store: StoreProbe,
) -> None:
    buyer = await create_client(client, account)
    sent = await create_invoice(client, account, buyer["id"])
    invoicing.send_invoice(account.business_id, UUID(sent["id"]), ["link"])
    cancelled = await create_invoice(client, account, buyer["id"])
    answer = await client.post(f"{INVOICES}/{cancelled['id']}/cancel", headers=account.headers)
    assert answer.status_code == 200, answer.text
    for invoice in (sent, cancelled):
        for body in ({"notes": "Too late"}, {"lines": EDITED_LINES}, {"currency": "XXX"}):
            await assert_rejected(
                client,
                store,
                "PUT",
                f"{INVOICES}/{invoice['id']}",
                status=409,
                headers=account.headers,
                json=body,
            )
    assert await _event_types(client, account, cancelled["id"]) == ["created", "cancelled"]
    after = await get_json(client, account, f"{INVOICES}/{sent['id']}")
    assert (after["notes"], after["total_cents"]) == (None, sent["total_cents"])


async def test_an_invalid_edit_names_every_field_and_records_nothing(
    client: AsyncTestClient[Any],
    account: Account,
    new_account: Callable[..., Account],
    store: StoreProbe,
) -> None:
    buyer = await create_client(client, account)
    invoice = await create_invoice(client, account, buyer["id"])
    url = f"{INVOICES}/{invoice['id']}"
    yesterday = (today_utc() - timedelta(days=1)).isoformat()
    archived = await create_client(client, account, "Gone")
    gone = await client.delete(f"{CLIENTS}/{archived['id']}", headers=account.headers)
    assert gone.status_code == 200, gone.text
    foreign = await create_client(client, new_account("Other Business"), "Not Yours")

    async def refused(body: Any, fields: list[str]) -> None:
        await assert_rejected(
            client, store, "PUT", url, status=422, fields=fields, headers=account.headers, json=body
        )

    # Shape errors and the domain's rules on the valid parts, in one answer.
    await refused(
        {
            "currency": "XXX",
            "due_date": yesterday,
            "client_id": archived["id"],
            "lines": [{"description": "x", "quantity": 0, "unit_price_cents": 1, "tax_rate": 20}],
        },
        ["currency", "due_date", "client_id", "lines[0].quantity"],
    )
    # The domain's rules alone (the body's shape is fine).
    negative = [{"description": "Refund", "quantity": 1, "unit_price_cents": -5, "tax_rate": 0}]
    await refused(
        {"due_date": yesterday, "client_id": archived["id"], "lines": negative},
        ["lines", "client_id", "due_date"],
    )
    # Another business's client is no client of this business (as on create).
    await refused({"client_id": foreign["id"]}, ["client_id"])
    await refused({"client_id": str(uuid4())}, ["client_id"])
    # Fields that are never null, unknown or read-only fields, an empty set of lines.
    await refused({"client_id": None, "currency": None}, ["client_id", "currency"])
    await refused({"number": "F2026-99999", "status": "paid"}, ["number", "status"])
    await refused({"lines": []}, ["lines"])
    await refused({"lines": None}, ["lines"])
    await refused([1, 2], ["body"])
    # The draft, untouched.
    assert await _event_types(client, account, invoice["id"]) == ["created"]


async def test_another_business_cannot_edit_the_draft(
    client: AsyncTestClient[Any],
    account: Account,
    new_account: Callable[..., Account],
    store: StoreProbe,
) -> None:
    buyer = await create_client(client, account)
    invoice = await create_invoice(client, account, buyer["id"])
    intruder = new_account("Intruder")
    for target in (invoice["id"], str(uuid4()), "not-an-id"):
        for body in ({"notes": "Mine now"}, {"currency": "XXX"}):
            await assert_rejected(
                client,
                store,
                "PUT",
                f"{INVOICES}/{target}",
                status=404,
                headers=intruder.headers,
                json=body,
            )
    assert await _event_types(client, account, invoice["id"]) == ["created"]


async def test_an_unknown_query_parameter_is_refused(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    buyer = await create_client(client, account)
    invoice = await create_invoice(client, account, buyer["id"])
    await assert_rejected(
        client,
        store,
        "PUT",
        f"{INVOICES}/{invoice['id']}?notes=sneaky",
        status=422,
        fields=["notes"],
        headers=account.headers,
        json={"notes": "Fine"},
    )


async def test_an_edit_is_done_once_per_idempotency_key(
    client: AsyncTestClient[Any], account: Account
) -> None:
    buyer = await create_client(client, account)
    invoice = await create_invoice(client, account, buyer["id"])
    url = f"{INVOICES}/{invoice['id']}"
    headers = {**account.headers, "Idempotency-Key": "edit-1"}
    first = await client.put(url, headers=headers, json={"lines": EDITED_LINES})
    second = await client.put(url, headers=headers, json={"lines": EDITED_LINES})
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.content == first.content
    assert second.headers["Idempotent-Replayed"] == "true"
    other = await client.put(url, headers=headers, json={"notes": "Another body"})
    assert other.status_code == 409, other.text
    assert await _event_types(client, account, invoice["id"]) == ["created", "changed"]


async def test_audit_and_rebuild_agree_after_edits(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    account = new_account("Edits Audited SARL")
    first = await create_client(client, account, "First")
    second = await create_client(client, account, "Second")
    invoice = await create_invoice(client, account, first["id"])
    await _put(client, account, invoice["id"], {"lines": EDITED_LINES})
    await _put(client, account, invoice["id"], {"client_id": second["id"], "notes": "Late"})
    url = f"{INVOICES}/{invoice['id']}"
    before = await get_json(client, account, url)
    assert (before["total_cents"], before["client_id"]) == (13317, second["id"])
    settle(database_url)
    reader = event_reader(invoicing)
    for model in READ_MODELS:
        assert compare(reader, database_url, model, business_id=account.business_id) == []
    rebuild(reader, database_url, InvoicesReadModel())
    assert await get_json(client, account, url) == before
    assert compare(reader, database_url, InvoicesReadModel()) == []
