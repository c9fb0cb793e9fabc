"""POST /api/v1/credit_notes/{id}/send in sandbox, on the real PostgreSQL with the app's own
delivery worker: the invoice send's body and answer shape, the localised message kept in the
sandbox outbox with the credit note's stored PDF attached to the email, the events recorded
once, the event feed, and every refusal (422, 404) leaving nothing behind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest
from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from tests.api.test_credit_notes import CREDIT_NOTES, NET_1000, credit
from tests.conftest import Account, StoreProbe
from tests.helpers import assert_problem, assert_rejected, settle
from tests.invoicing_support import get_json, invoice_for

MESSAGES = "/api/v1/sandbox/messages"
# The email's subject and the body's sentence naming the invoice, per the client's locale.
WORDS = {
    "fr": ("Avoir {number} de {seller}", "relatif à la facture {invoice}"),
    "en": ("Credit note {number} from {seller}", "which credits invoice {invoice}"),
    "nb": ("Kreditnota {number} fra {seller}", "som krediterer faktura {invoice}"),
    "sv": ("Kreditfaktura {number} från {seller}", "som krediterar faktura {invoice}"),
}


async def credited(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
    *,
    locale: str = "en",
    client_fields: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A sent invoice (by link) for a client with an email and a phone, and its credit note."""
    fields = client_fields or {
        "email": f"{uuid4().hex[:10]}@client.example",
        "phone": "+4791234567",
    }
    invoice = await invoice_for(
        client,
        account,
        invoicing,
        database_url,
        locale=locale,
        client_fields=fields,
        lines=[dict(NET_1000)],
    )
    return invoice, await credit(client, account, invoice["id"], reason="Returned goods")


@pytest.mark.parametrize("locale", ["fr", "sv"])
async def test_a_sandbox_send_keeps_the_localised_messages_with_the_pdf_attached(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
    locale: str,
) -> None:
    invoice, note = await credited(client, account, invoicing, database_url, locale=locale)
    # Rendered first (the session's first PDF may take longer than a sandbox send waits): the
    # email must carry these very bytes.
    pdf = await client.get(f"{CREDIT_NOTES}/{note['id']}/pdf", headers=account.headers)
    response = await client.post(
        f"{CREDIT_NOTES}/{note['id']}/send",
        headers=account.headers,
        json={"channels": ["email", "sms", "link"]},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"credit_note", "deliveries"}
    assert answer["credit_note"] == note
    buyer = invoice["buyer"]
    assert answer["deliveries"] == [
        {
            "channel": "email",
            "to": buyer["email"],
            "status": "simulated",
            "url": note["public_url"],
        },
        {"channel": "sms", "to": buyer["phone"], "status": "simulated", "url": note["public_url"]},
        {"channel": "link", "to": None, "status": "simulated", "url": note["public_url"]},
    ]
    kept = (await get_json(client, account, f"{MESSAGES}?invoice_id={invoice['id']}"))["data"]
    mine = {m["channel"]: m for m in kept if m["credit_note_id"] == note["id"]}
    assert set(mine) == {"email", "sms"}  # a link travels nowhere
    email, sms = mine["email"], mine["sms"]
    subject, sentence = WORDS[locale]
    seller = invoice["seller"]["legal_name"] or invoice["seller"]["name"]
    assert email["subject"] == subject.format(number=note["number"], seller=seller)
    assert sentence.format(invoice=invoice["number"]) in email["body"]
    assert note["public_url"] in email["body"]
    assert (email["to"], email["url"], email["invoice_id"]) == (
        buyer["email"],
        note["public_url"],
        invoice["id"],
    )
    assert email["attachments"] == [
        {
            "filename": f"{note['number']}.pdf",
            "content_type": "application/pdf",
            "size": len(pdf.content),
        }
    ]
    assert sms["subject"] is None
    assert note["number"] in sms["body"]
    assert note["public_url"] in sms["body"]
    assert sms["attachments"] == []
    # An invoice's own messages name no credit note.
    assert all(m["credit_note_id"] is None for m in kept if m["id"] not in {email["id"], sms["id"]})
    # The events: recorded once each, in the credit note's stream and the business's feed.
    settle(database_url)
    events = (await get_json(client, account, f"{CREDIT_NOTES}/{note['id']}/events"))["data"]
    assert [e["type"] for e in events] == ["issued", "sent", "delivered", "delivered", "delivered"]
    sent = events[1]["data"]["deliveries"]
    assert [(d["channel"], d["to"]) for d in sent] == [
        ("email", buyer["email"]),
        ("sms", buyer["phone"]),
        ("link", None),
    ]
    feed = (await get_json(client, account, "/api/v1/events?limit=500"))["data"]
    types = [e["type"] for e in feed if e["object_id"] == note["id"]]
    assert types == ["credit_note.issued", "credit_note.sent"] + ["credit_note.delivered"] * 3


async def test_a_credit_note_can_be_sent_again_and_each_send_is_delivered_once(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    invoice, note = await credited(client, account, invoicing, database_url)
    await client.get(f"{CREDIT_NOTES}/{note['id']}/pdf", headers=account.headers)
    for _ in range(2):
        response = await client.post(
            f"{CREDIT_NOTES}/{note['id']}/send",
            headers=account.headers,
            json={"channels": ["email"]},
        )
        assert response.status_code == 200, response.text
        assert response.json()["deliveries"][0]["status"] == "simulated"
    kept = (await get_json(client, account, f"{MESSAGES}?invoice_id={invoice['id']}"))["data"]
    assert len([m for m in kept if m["credit_note_id"] == note["id"]]) == 2


async def test_refusals_leave_nothing_behind(
    client: AsyncTestClient[Any],
    account: Account,
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
    store: StoreProbe,
) -> None:
    _, note = await credited(
        client, account, invoicing, database_url, client_fields={"email": "only@mail.example"}
    )
    url = f"{CREDIT_NOTES}/{note['id']}/send"
    headers = account.headers
    for body, fields in (
        ({"channels": ["email"], "reminder": True}, ["reminder"]),
        ({}, ["channels"]),
        ({"channels": []}, ["channels"]),
        ({"channels": ["fax"]}, ["channels[0]"]),
        ({"channels": ["sms"]}, ["channels"]),  # the client has no phone
        ({"channels": ["email"], "extra": 1}, ["extra"]),
    ):
        await assert_rejected(
            client, store, "POST", url, status=422, fields=fields, json=body, headers=headers
        )
    await assert_rejected(
        client,
        store,
        "POST",
        url + "?notify=1",
        status=422,
        fields=["notify"],
        json={"channels": ["link"]},
        headers=headers,
    )
    other = new_account("Someone else")
    await assert_rejected(
        client, store, "POST", url, status=404, json={"channels": ["link"]}, headers=other.headers
    )
    assert_problem(
        await client.post(
            f"{CREDIT_NOTES}/{uuid4()}/send", headers=headers, json={"channels": ["link"]}
        ),
        404,
    )
