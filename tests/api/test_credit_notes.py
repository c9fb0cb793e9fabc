"""Credit notes on the real PostgreSQL (API.md "Credit notes", "Cancel"): amounts, numbering,
the invoice's credited amount and status, refunds, and every refusal leaving nothing behind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import psycopg
from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from tests.conftest import Account, StoreProbe
from tests.helpers import assert_problem, assert_rejected, settle
from tests.invoicing_support import INVOICES, create_client, create_invoice, get_json, invoice_for

CREDIT_NOTES = "/api/v1/credit_notes"
NET_1000 = {
    "description": "Website redesign",
    "quantity": 1,
    "unit_price_cents": 100000,
    "tax_rate": 20,
}
CREDIT_NOTE_FIELDS = {
    "id",
    "number",
    "invoice_id",
    "invoice_number",
    "client_id",
    "currency",
    "issue_date",
    "reason",
    "lines",
    "tax_breakdown",
    "subtotal_cents",
    "tax_cents",
    "total_cents",
    "refund_due_cents",
    "seller",
    "buyer",
    "public_url",
    "created_at",
}


def credit_line(net_cents: int, rate: int | str = 20, quantity: int | str = 1) -> dict[str, Any]:
    return {
        "description": "Credited",
        "quantity": quantity,
        "unit_price_cents": net_cents,
        "tax_rate": rate,
    }


async def sent_invoice(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
    lines: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A sent invoice of 1,200.00 (1,000.00 + 20 % VAT) unless `lines` say otherwise."""
    return await invoice_for(
        client, account, invoicing, database_url, lines=lines or [dict(NET_1000)]
    )


async def credit(
    client: AsyncTestClient[Any], account: Account, invoice_id: str, **body: Any
) -> dict[str, Any]:
    response = await client.post(
        f"{INVOICES}/{invoice_id}/credit_notes",
        headers=account.headers,
        json={"reason": "Correction", **body},
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"{CREDIT_NOTES}/{response.json()['id']}"
    result: dict[str, Any] = response.json()
    return result


async def pay(client: AsyncTestClient[Any], account: Account, invoice_id: str, cents: int) -> None:
    response = await client.post(
        f"{INVOICES}/{invoice_id}/payments",
        headers=account.headers,
        json={"amount_cents": cents, "method": "bank_transfer"},
    )
    assert response.status_code == 201, response.text


async def types(client: AsyncTestClient[Any], account: Account, url: str) -> list[str]:
    """The event types of a stream, but the link's `delivered` (the worker's, any time)."""
    events = (await get_json(client, account, f"{url}/events"))["data"]
    return [e["type"] for e in events if e["type"] != "delivered"]


async def test_partial_credit_after_a_payment_then_the_rest_then_a_refund(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    invoice = await sent_invoice(client, account, invoicing, database_url)
    assert invoice["amount_credited_cents"] == 0
    await pay(client, account, invoice["id"], 50000)

    partial = await credit(
        client, account, invoice["id"], reason="Design discount", lines=[credit_line(25000)]
    )
    assert set(partial) == CREDIT_NOTE_FIELDS
    assert partial["number"].startswith("A")
    assert partial["number"].endswith("-00001")
    assert (partial["invoice_id"], partial["invoice_number"]) == (invoice["id"], invoice["number"])
    assert (partial["subtotal_cents"], partial["tax_cents"], partial["total_cents"]) == (
        25000,
        5000,
        30000,
    )
    assert partial["tax_breakdown"] == [{"rate": 20, "base_cents": 25000, "tax_cents": 5000}]
    assert partial["refund_due_cents"] == 0  # 500.00 paid of 900.00 still to pay
    assert partial["reason"] == "Design discount"
    assert partial["seller"]["name"] == invoice["seller"]["name"]
    assert partial["buyer"]["id"] == invoice["client_id"]
    assert partial["public_url"].startswith("http")
    assert partial["id"] not in partial["public_url"]
    assert await get_json(client, account, f"{CREDIT_NOTES}/{partial['id']}") == partial

    after = await get_json(client, account, f"{INVOICES}/{invoice['id']}")
    assert (after["status"], after["amount_paid_cents"]) == ("sent", 50000)
    assert (after["amount_credited_cents"], after["amount_due_cents"]) == (30000, 40000)

    # Paid in part: credited, never cancelled.
    refused = await client.post(f"{INVOICES}/{invoice['id']}/cancel", headers=account.headers)
    assert_problem(refused, 409)

    rest = await credit(client, account, invoice["id"], reason="Project stopped")
    assert rest["number"].endswith("-00002")
    assert rest["lines"] == [
        {
            "description": f"Invoice {invoice['number']}: remaining amount at 20 % VAT",
            "quantity": 1,
            "unit_price_cents": 75000,
            "tax_rate": 20,
            "net_cents": 75000,
        }
    ]
    assert (rest["total_cents"], rest["refund_due_cents"]) == (90000, 50000)
    after = await get_json(client, account, f"{INVOICES}/{invoice['id']}")
    assert (after["status"], after["amount_credited_cents"], after["amount_due_cents"]) == (
        "paid",
        120000,
        0,
    )

    response = await client.post(
        f"{CREDIT_NOTES}/{rest['id']}/refunds",
        headers=account.headers,
        json={"amount_cents": 50000, "method": "bank_transfer", "reference": "SEPA-1"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["refund_due_cents"] == 0
    assert (await get_json(client, account, f"{CREDIT_NOTES}/{rest['id']}"))[
        "refund_due_cents"
    ] == 0
    assert await types(client, account, f"{CREDIT_NOTES}/{rest['id']}") == [
        "issued",
        "refund_recorded",
    ]
    assert await types(client, account, f"{INVOICES}/{invoice['id']}") == [
        "created",
        "sent",
        "payment_recorded",
        "credited",
        "credited",
    ]
    listed = await get_json(client, account, f"{CREDIT_NOTES}?invoice_id={invoice['id']}")
    assert [n["number"] for n in listed["data"]] == [rest["number"], partial["number"]]
    assert (listed["page"], listed["per_page"], listed["total"]) == (1, 50, 2)


async def test_a_credit_without_lines_on_an_uncredited_invoice_takes_its_lines(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    lines = [
        {"description": "Book", "quantity": "3", "unit_price_cents": 1999, "tax_rate": "5.5"},
        {"description": "Service", "quantity": "1.5", "unit_price_cents": 3333, "tax_rate": 20},
        {"description": "Discount", "quantity": 1, "unit_price_cents": -500, "tax_rate": 20},
    ]
    invoice = await sent_invoice(client, account, invoicing, database_url, lines)
    note = await credit(client, account, invoice["id"])
    for field in ("lines", "tax_breakdown", "subtotal_cents", "tax_cents", "total_cents"):
        assert note[field] == invoice[field], field
    after = await get_json(client, account, f"{INVOICES}/{invoice['id']}")
    # Fully credited before any payment: the lifecycle's `cancelled`.
    assert (after["status"], after["amount_due_cents"]) == ("cancelled", 0)


async def test_the_rest_of_each_vat_rate_is_credited_exactly(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    lines = [
        {"description": "Book", "quantity": 1, "unit_price_cents": 1000, "tax_rate": "5.5"},
        {"description": "Service", "quantity": 1, "unit_price_cents": 2001, "tax_rate": 20},
    ]
    invoice = await sent_invoice(client, account, invoicing, database_url, lines)
    # More base at 5.5 % than the invoice has (1,000), though within its total: refused.
    too_much = await client.post(
        f"{INVOICES}/{invoice['id']}/credit_notes",
        headers=account.headers,
        json={"reason": "x", "lines": [credit_line(1001, "5.5")]},
    )
    assert [e["field"] for e in assert_problem(too_much, 422)["errors"]] == ["lines[0].tax_rate"]
    first = await credit(client, account, invoice["id"], lines=[credit_line(333, "5.5")])
    assert first["tax_cents"] == 18  # 333 * 5.5 % = 18.315
    rest = await credit(client, account, invoice["id"])
    assert [(ln["tax_rate"], ln["net_cents"]) for ln in rest["lines"]] == [(20, 2001), (5.5, 667)]
    # What is left of each rate's tax, so that the two notes annul the invoice to the cent.
    assert rest["total_cents"] + first["total_cents"] == invoice["total_cents"]
    after = await get_json(client, account, f"{INVOICES}/{invoice['id']}")
    assert (after["status"], after["amount_credited_cents"]) == (
        "cancelled",
        invoice["total_cents"],
    )


async def test_over_credit_is_a_422_on_lines_and_stores_nothing(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
    store: StoreProbe,
) -> None:
    invoice = await sent_invoice(client, account, invoicing, database_url)
    url = f"{INVOICES}/{invoice['id']}/credit_notes"
    body = {"reason": "Too much", "lines": [credit_line(100001)]}  # 1,200.01
    await assert_rejected(
        client, store, "POST", url, status=422, fields=["lines"], headers=account.headers, json=body
    )
    await credit(client, account, invoice["id"], lines=[credit_line(40000)])
    body = {"reason": "Too much", "lines": [credit_line(60001)]}  # 720.01 of 720.00 left
    await assert_rejected(
        client, store, "POST", url, status=422, fields=["lines"], headers=account.headers, json=body
    )
    body = {"reason": "Nothing", "lines": [credit_line(1, quantity="0.1")]}  # 0 cents
    await assert_rejected(
        client, store, "POST", url, status=422, fields=["lines"], headers=account.headers, json=body
    )


async def test_credit_lines_and_reason_are_checked_and_every_error_named(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
    store: StoreProbe,
) -> None:
    invoice = await sent_invoice(client, account, invoicing, database_url)
    url = f"{INVOICES}/{invoice['id']}/credit_notes"
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"reason": "   "}, ["reason"]),
        ({}, ["reason"]),
        ({"reason": None}, ["reason"]),
        ({"reason": "x", "lines": []}, ["lines"]),
        ({"reason": "x", "lines": "all"}, ["lines"]),
        ({"reason": "x", "lines": [credit_line(0)]}, ["lines[0].unit_price_cents"]),
        (
            {"reason": "x", "lines": [credit_line(100), credit_line(-50)]},
            ["lines[1].unit_price_cents"],
        ),
        (
            {"reason": "", "lines": [{**credit_line(100), "quantity": 0, "tax_rate": 101}]},
            ["reason", "lines[0].quantity", "lines[0].tax_rate"],
        ),
        ({"reason": "x", "amount_cents": 5}, ["amount_cents"]),
        # Only the invoice's VAT rates (20 % here) are credited.
        ({"reason": "x", "lines": [credit_line(100, rate="5.5")]}, ["lines[0].tax_rate"]),
    ]
    for body, fields in cases:
        await assert_rejected(
            client,
            store,
            "POST",
            url,
            status=422,
            fields=fields,
            headers=account.headers,
            json=body,
        )


async def test_draft_cancelled_or_fully_credited_invoices_answer_409_and_store_nothing(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
    store: StoreProbe,
) -> None:
    buyer = await create_client(client, account, "Buyer AS")
    draft = await create_invoice(client, account, buyer["id"])
    cancelled = await create_invoice(client, account, buyer["id"])
    await client.post(f"{INVOICES}/{cancelled['id']}/cancel", headers=account.headers)
    credited = await sent_invoice(client, account, invoicing, database_url)
    await credit(client, account, credited["id"])
    paid_and_credited = await sent_invoice(client, account, invoicing, database_url)
    await pay(client, account, paid_and_credited["id"], 120000)
    await credit(client, account, paid_and_credited["id"])  # status stays `paid`
    for invoice in (draft, cancelled, credited, paid_and_credited):
        for body in ({"reason": "again"}, {"reason": "again", "lines": [credit_line(1)]}):
            await assert_rejected(
                client,
                store,
                "POST",
                f"{INVOICES}/{invoice['id']}/credit_notes",
                status=409,
                headers=account.headers,
                json=body,
            )


async def test_refunds_are_bounded_by_the_refund_due(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
    store: StoreProbe,
) -> None:
    invoice = await sent_invoice(client, account, invoicing, database_url)
    await pay(client, account, invoice["id"], 120000)
    note = await credit(client, account, invoice["id"], lines=[credit_line(10000)])
    assert note["refund_due_cents"] == 12000
    url = f"{CREDIT_NOTES}/{note['id']}/refunds"
    for body, fields in (
        ({"amount_cents": 12001, "method": "bank_transfer"}, ["amount_cents"]),
        ({"amount_cents": 0, "method": "cash"}, ["amount_cents"]),
        ({"amount_cents": 100, "method": "cheque"}, ["method"]),
        ({"method": "cash"}, ["amount_cents"]),
    ):
        await assert_rejected(
            client,
            store,
            "POST",
            url,
            status=422,
            fields=fields,
            headers=account.headers,
            json=body,
        )
    response = await client.post(
        url, headers=account.headers, json={"amount_cents": 2000, "method": "card"}
    )
    assert response.status_code == 201
    assert response.json()["refund_due_cents"] == 10000
    await assert_rejected(
        client,
        store,
        "POST",
        url,
        status=422,
        fields=["amount_cents"],
        headers=account.headers,
        json={"amount_cents": 10001, "method": "cash"},
    )
    # Nothing was paid on this one: nothing to refund.
    unpaid = await sent_invoice(client, account, invoicing, database_url)
    nothing = await credit(client, account, unpaid["id"], lines=[credit_line(100)])
    assert nothing["refund_due_cents"] == 0
    await assert_rejected(
        client,
        store,
        "POST",
        f"{CREDIT_NOTES}/{nothing['id']}/refunds",
        status=422,
        fields=["amount_cents"],
        headers=account.headers,
        json={"amount_cents": 1, "method": "cash"},
    )


async def test_another_business_ids_answer_404_on_every_credit_note_endpoint(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
    store: StoreProbe,
) -> None:
    owner, other = new_account("Owner AS"), new_account("Other AS")
    invoice = await sent_invoice(client, owner, invoicing, database_url)
    await pay(client, owner, invoice["id"], 1000)
    note = await credit(client, owner, invoice["id"], lines=[credit_line(10000)])
    # The other business's own invoice and credit note ids do not reach the owner's either.
    for target in (note["id"], str(uuid4()), "not-a-uuid", invoice["id"]):
        for method, path, body in (
            ("GET", f"{CREDIT_NOTES}/{target}", None),
            ("GET", f"{CREDIT_NOTES}/{target}/events", None),
            ("POST", f"{CREDIT_NOTES}/{target}/refunds", {"amount_cents": 1, "method": "cash"}),
        ):
            await assert_rejected(
                client, store, method, path, status=404, headers=other.headers, json=body
            )
    for target in (invoice["id"], note["id"], str(uuid4()), "nope"):
        await assert_rejected(
            client,
            store,
            "POST",
            f"{INVOICES}/{target}/credit_notes",
            status=404,
            headers=other.headers,
            json={"reason": "theirs"},
        )
    listed = await get_json(client, other, f"{CREDIT_NOTES}?invoice_id={invoice['id']}")
    assert (listed["data"], listed["total"]) == ([], 0)
    assert (await get_json(client, other, CREDIT_NOTES))["total"] == 0
    # An invoice id is not a credit note id, nor the reverse, for the owner either.
    assert_problem(await client.get(f"{CREDIT_NOTES}/{invoice['id']}", headers=owner.headers), 404)
    assert_problem(await client.get(f"{INVOICES}/{note['id']}/events", headers=owner.headers), 404)


async def test_the_list_follows_the_list_rules(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    first = await sent_invoice(client, account, invoicing, database_url)
    second = await sent_invoice(client, account, invoicing, database_url)
    notes = [
        await credit(client, account, first["id"], lines=[credit_line(100)]),
        await credit(client, account, second["id"], lines=[credit_line(200)]),
        await credit(client, account, first["id"], lines=[credit_line(300)]),
    ]
    everything = await get_json(client, account, CREDIT_NOTES)
    assert [n["id"] for n in everything["data"]] == [n["id"] for n in reversed(notes)]
    assert all(set(n) == CREDIT_NOTE_FIELDS for n in everything["data"])
    page = await get_json(client, account, f"{CREDIT_NOTES}?per_page=1&page=2")
    assert ([n["id"] for n in page["data"]], page["total"]) == ([notes[1]["id"]], 3)
    of_first = await get_json(client, account, f"{CREDIT_NOTES}?invoice_id={first['id']}")
    assert [n["id"] for n in of_first["data"]] == [notes[2]["id"], notes[0]["id"]]
    for query, field in (
        ("invoice=1", "invoice"),
        ("invoice_id=nope", "invoice_id"),
        (f"invoice_id={first['id']}&invoice_id={second['id']}", "invoice_id"),
        ("per_page=101", "per_page"),
        ("page=0", "page"),
    ):
        response = await client.get(f"{CREDIT_NOTES}?{query}", headers=account.headers)
        body = assert_problem(response, 422)
        assert [e["field"] for e in body["errors"]] == [field], query


async def test_a_credit_note_is_issued_once_per_idempotency_key(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    invoice = await sent_invoice(client, account, invoicing, database_url)
    url = f"{INVOICES}/{invoice['id']}/credit_notes"
    headers = {**account.headers, "Idempotency-Key": f"credit-{uuid4()}"}
    body = {"reason": "Once", "lines": [credit_line(1000)]}
    first = await client.post(url, headers=headers, json=body)
    again = await client.post(url, headers=headers, json=body)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert_problem(await client.post(url, headers=headers, json={**body, "reason": "Other"}), 409)
    assert (await get_json(client, account, f"{CREDIT_NOTES}?invoice_id={invoice['id']}"))[
        "total"
    ] == 1


async def test_the_credit_note_prefix_is_a_business_setting(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    assert (await get_json(client, account, "/api/v1/business"))["credit_note_prefix"] == "A"
    invoice = await sent_invoice(client, account, invoicing, database_url)
    first = await credit(client, account, invoice["id"], lines=[credit_line(100)])
    changed = await client.put(
        "/api/v1/business", headers=account.headers, json={"credit_note_prefix": "AV-"}
    )
    assert changed.status_code == 200
    assert changed.json()["credit_note_prefix"] == "AV-"
    second = await credit(client, account, invoice["id"], lines=[credit_line(100)])
    year = first["issue_date"][:4]
    # One series per business and year, whatever the prefix; invoices keep theirs.
    assert (first["number"], second["number"]) == (f"A{year}-00001", f"AV-{year}-00002")
    assert invoice["number"] == f"F{year}-00001"


async def test_cancelling_a_sent_invoice_issues_its_credit_note_in_the_same_transaction(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    invoice = await sent_invoice(client, account, invoicing, database_url)
    await credit(client, account, invoice["id"], lines=[credit_line(20000)])
    response = await client.post(
        f"{INVOICES}/{invoice['id']}/cancel", headers=account.headers, json={"reason": "Duplicate"}
    )
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert (cancelled["status"], cancelled["amount_credited_cents"]) == ("cancelled", 120000)
    assert cancelled["amount_due_cents"] == 0
    assert await types(client, account, f"{INVOICES}/{invoice['id']}") == [
        "created",
        "sent",
        "credited",
        "cancelled",
    ]
    events = (await get_json(client, account, f"{INVOICES}/{invoice['id']}/events"))["data"]
    (note_id,) = [e["data"]["credit_note_id"] for e in events if e["type"] == "cancelled"]
    note = await get_json(client, account, f"{CREDIT_NOTES}/{note_id}")
    assert (note["reason"], note["total_cents"], note["invoice_id"]) == (
        "Duplicate",
        96000,
        invoice["id"],
    )
    # The credit note's `issued`, its number and the invoice's `cancelled`: one transaction.
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT topic, xmin::text FROM invoicing_events WHERE originator_id = %s"
            " OR (originator_id = %s AND topic LIKE '%%Cancelled')"
            " OR (topic LIKE 'fastfaktura:CreditNoteSeries.NumberAllocated'"
            "     AND convert_from(state, 'UTF8') LIKE %s)",
            (note_id, invoice["id"], f"%{note_id.replace('-', '')}%"),
        ).fetchall()
    assert sorted(topic for topic, _ in rows) == [
        "fastfaktura:CreditNote.Issued",
        "fastfaktura:CreditNoteSeries.NumberAllocated",
        "fastfaktura:Invoice.Cancelled",
    ]
    assert len({xid for _, xid in rows}) == 1


async def test_an_invoice_with_payments_cannot_be_cancelled(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
    store: StoreProbe,
) -> None:
    invoice = await sent_invoice(client, account, invoicing, database_url)
    await pay(client, account, invoice["id"], 1)
    await assert_rejected(
        client,
        store,
        "POST",
        f"{INVOICES}/{invoice['id']}/cancel",
        status=409,
        headers=account.headers,
        json={"reason": "too late"},
    )
    settle(database_url)
    after = await get_json(client, account, f"{INVOICES}/{invoice['id']}")
    assert (after["status"], after["amount_credited_cents"]) == ("sent", 0)
