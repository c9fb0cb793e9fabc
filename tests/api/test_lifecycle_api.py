"""Cancel, payments and the overdue sweep through the API and the CLI, on the real database.

Sending over channels is not built yet; tests record the `sent` decision through the
application (Invoicing.send_invoice), which is what the send endpoint will call.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from tests.conftest import Account, StoreProbe
from tests.helpers import assert_rejected, run_cli, settle
from tests.invoicing_support import INVOICES, create_client, create_invoice, get_json

TOTAL = 12000  # one line of 100.00 at 20 % VAT


async def sent_invoice(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
    **overrides: Any,
) -> dict[str, Any]:
    """A sent invoice whose (link) delivery is done: events created, sent, delivered."""
    buyer = await create_client(client, account)
    invoice = await create_invoice(client, account, buyer["id"], **overrides)
    invoicing.send_invoice(account.business_id, UUID(invoice["id"]), ["link"])
    settle(database_url)
    return invoice


async def events_of(client: AsyncTestClient[Any], account: Account, invoice_id: str) -> list[str]:
    body = await get_json(client, account, f"{INVOICES}/{invoice_id}/events")
    return [event["type"] for event in body["data"]]


async def test_cancelling_a_draft_keeps_its_number_and_reads_back_at_once(
    client: AsyncTestClient[Any], account: Account
) -> None:
    buyer = await create_client(client, account)
    invoice = await create_invoice(client, account, buyer["id"])
    response = await client.post(
        f"{INVOICES}/{invoice['id']}/cancel", headers=account.headers, json={"reason": "typo"}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["number"]) == (
        "cancelled",
        invoice["number"],
    )
    fetched = await get_json(client, account, f"{INVOICES}/{invoice['id']}")
    assert fetched["status"] == "cancelled"
    assert await events_of(client, account, invoice["id"]) == ["created", "cancelled"]
    listed = await get_json(client, account, f"{INVOICES}?status=cancelled")
    assert [i["id"] for i in listed["data"]] == [invoice["id"]]


async def test_cancel_takes_an_empty_body(client: AsyncTestClient[Any], account: Account) -> None:
    buyer = await create_client(client, account)
    invoice = await create_invoice(client, account, buyer["id"])
    response = await client.post(f"{INVOICES}/{invoice['id']}/cancel", headers=account.headers)
    assert response.status_code == 200, response.text


async def test_cancelling_twice_is_a_409_and_records_nothing(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    buyer = await create_client(client, account)
    invoice = await create_invoice(client, account, buyer["id"])
    url = f"{INVOICES}/{invoice['id']}/cancel"
    assert (await client.post(url, headers=account.headers)).status_code == 200
    await assert_rejected(client, store, "POST", url, headers=account.headers, status=409)


async def test_partial_then_full_payment_makes_the_invoice_paid(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    invoice = await sent_invoice(client, account, invoicing, database_url)
    url = f"{INVOICES}/{invoice['id']}/payments"
    first = await client.post(
        url, headers=account.headers, json={"amount_cents": 2000, "method": "bank_transfer"}
    )
    assert first.status_code == 201, first.text
    assert (
        first.json()["status"],
        first.json()["amount_paid_cents"],
        first.json()["amount_due_cents"],
    ) == (
        "sent",
        2000,
        TOTAL - 2000,
    )
    second = await client.post(
        url,
        headers=account.headers,
        json={
            "amount_cents": TOTAL - 2000,
            "method": "card",
            "paid_at": "2026-11-20T10:00:00Z",
            "reference": "x",
        },
    )
    assert second.status_code == 201, second.text
    assert (second.json()["status"], second.json()["amount_due_cents"]) == ("paid", 0)
    assert await events_of(client, account, invoice["id"]) == [
        "created",
        "sent",
        "delivered",
        "payment_recorded",
        "payment_recorded",
        "paid",
    ]
    fetched = await get_json(client, account, f"{INVOICES}/{invoice['id']}")
    assert (fetched["status"], fetched["amount_paid_cents"]) == ("paid", TOTAL)


async def test_bad_payments_are_refused_and_record_nothing(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    store: StoreProbe,
    database_url: str,
) -> None:
    invoice = await sent_invoice(client, account, invoicing, database_url)
    url = f"{INVOICES}/{invoice['id']}/payments"
    bad = [
        ({"amount_cents": TOTAL + 1, "method": "card"}, ["amount_cents"]),
        ({"amount_cents": 0, "method": "card"}, ["amount_cents"]),
        ({"amount_cents": 10.5, "method": "card"}, ["amount_cents"]),
        ({"amount_cents": 100, "method": "cheque"}, ["method"]),
        ({"amount_cents": 100, "method": "card", "paid_at": "2026-11-24 10:00"}, ["paid_at"]),
        ({"amount_cents": 100, "method": "card", "paid_at": "2999-01-01T00:00:00Z"}, ["paid_at"]),
        ({"method": "card", "colour": "red"}, ["amount_cents", "colour"]),
    ]
    for body, fields in bad:
        await assert_rejected(
            client,
            store,
            "POST",
            url,
            headers=account.headers,
            json=body,
            status=422,
            fields=fields,
        )


async def test_paying_a_draft_a_cancelled_or_a_paid_invoice_is_a_409(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    store: StoreProbe,
    database_url: str,
) -> None:
    buyer = await create_client(client, account)
    draft = await create_invoice(client, account, buyer["id"])
    cancelled = await create_invoice(client, account, buyer["id"])
    await client.post(f"{INVOICES}/{cancelled['id']}/cancel", headers=account.headers)
    paid = await sent_invoice(client, account, invoicing, database_url)
    payment = {"amount_cents": TOTAL, "method": "cash"}
    response = await client.post(
        f"{INVOICES}/{paid['id']}/payments", headers=account.headers, json=payment
    )
    assert response.status_code == 201
    for invoice in (draft, cancelled, paid):
        await assert_rejected(
            client,
            store,
            "POST",
            f"{INVOICES}/{invoice['id']}/payments",
            headers=account.headers,
            json={"amount_cents": 1, "method": "cash"},
            status=409,
        )


async def test_a_payment_is_recorded_once_per_idempotency_key(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    invoice = await sent_invoice(client, account, invoicing, database_url)
    url = f"{INVOICES}/{invoice['id']}/payments"
    headers = {**account.headers, "Idempotency-Key": f"pay-{uuid4()}"}
    body = {"amount_cents": 500, "method": "card"}
    first = await client.post(url, headers=headers, json=body)
    again = await client.post(url, headers=headers, json=body)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await events_of(client, account, invoice["id"])).count("payment_recorded") == 1


async def test_lifecycle_endpoints_are_404_for_another_business(
    client: AsyncTestClient[Any],
    account: Account,
    new_account: Any,
    invoicing: Invoicing,
    database_url: str,
) -> None:
    invoice = await sent_invoice(client, account, invoicing, database_url)
    intruder = new_account("Intruder")
    for path, body in (("cancel", {}), ("payments", {"amount_cents": 1, "method": "cash"})):
        for target in (invoice["id"], str(uuid4()), "not-an-id"):
            response = await client.post(
                f"{INVOICES}/{target}/{path}", headers=intruder.headers, json=body
            )
            assert response.status_code == 404, (path, target, response.text)
    fetched = await get_json(client, account, f"{INVOICES}/{invoice['id']}")
    assert (fetched["status"], fetched["amount_paid_cents"]) == ("sent", 0)


async def test_overdue_sweep_marks_past_due_invoices_once(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    due = date.fromisoformat(
        (await sent_invoice(client, account, invoicing, database_url))["due_date"]
    )
    settle(database_url)
    before = run_cli(database_url, "overdue", "sweep", "--today", due.isoformat())
    assert before.returncode == 0, before.stderr
    listed = await get_json(client, account, f"{INVOICES}?status=overdue")
    assert listed["total"] == 0  # due today is not past due

    day_after = (due + timedelta(days=1)).isoformat()
    for _ in range(2):  # two sweeps record one event
        result = run_cli(database_url, "overdue", "sweep", "--today", day_after)
        assert result.returncode == 0, result.stderr
    listed = await get_json(client, account, f"{INVOICES}?status=overdue")
    assert listed["total"] == 1
    invoice_id = listed["data"][0]["id"]
    assert await events_of(client, account, invoice_id) == [
        "created",
        "sent",
        "delivered",
        "overdue",
    ]


def test_the_overdue_sweep_refuses_a_bad_date_cleanly(database_url: str) -> None:
    result = run_cli(database_url, "overdue", "sweep", "--today", "24/11/2026")
    assert result.returncode != 0
    assert "must be a date" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


async def test_a_cancel_is_recorded_once_per_idempotency_key(
    client: AsyncTestClient[Any], account: Account
) -> None:
    buyer = await create_client(client, account)
    invoice = await create_invoice(client, account, buyer["id"])
    url = f"{INVOICES}/{invoice['id']}/cancel"
    headers = {**account.headers, "Idempotency-Key": f"cancel-{uuid4()}"}
    first = await client.post(url, headers=headers, json={"reason": "duplicate"})
    again = await client.post(url, headers=headers, json={"reason": "duplicate"})
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await events_of(client, account, invoice["id"]) == ["created", "cancelled"]
    other = await client.post(url, headers=headers, json={"reason": "something else"})
    assert other.status_code == 409  # same key, another body
