"""POST /api/v1/invoices/{id}/send and GET /api/v1/sandbox/messages (API.md "Send"), through
the whole service: API, live projections and the in-process delivery worker (sandbox).

Sandbox deliveries are performed by the real worker; the send answer waits for them, so the
outbox is read right after the answer, without `settle`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from tests.conftest import Account, StoreProbe
from tests.helpers import assert_problem, assert_rejected, settle
from tests.invoicing_support import (
    INVOICES,
    concurrently,
    create_client,
    create_invoice,
    get_json,
    today_utc,
)

MESSAGES = "/api/v1/sandbox/messages"
TOTAL = 12000  # one line of 100.00 at 20 % VAT
EMAIL = "accounts@acme.example"
PHONE = "+33612345678"
# What each locale says, and how it writes 120.00 EUR (babel's CLDR data, non-breaking space).
LOCALISED: dict[str, dict[str, str]] = {
    "fr": {
        "subject": "Facture {number} de {seller}",
        "reminder_subject": "Rappel : facture {number} de {seller}",
        "total": "120,00\xa0€",
        "greeting": "Bonjour Acme",
        "sms": "facture {number}",
    },
    "en": {
        "subject": "Invoice {number} from {seller}",
        "reminder_subject": "Reminder: invoice {number} from {seller}",
        "total": "€120.00",
        "greeting": "Hello Acme",
        "sms": "invoice {number}",
    },
    "nb": {
        "subject": "Faktura {number} fra {seller}",
        "reminder_subject": "Påminnelse: faktura {number} fra {seller}",
        "total": "120,00\xa0€",
        "greeting": "Hei Acme",
        "sms": "faktura {number}",
    },
    "sv": {
        "subject": "Faktura {number} från {seller}",
        "reminder_subject": "Påminnelse: faktura {number} från {seller}",
        "total": "120,00\xa0€",
        "greeting": "Hej Acme",
        "sms": "faktura {number}",
    },
}


def send_url(invoice_id: str) -> str:
    return f"{INVOICES}/{invoice_id}/send"


async def draft(
    client: AsyncTestClient[Any], account: Account, **client_fields: Any
) -> dict[str, Any]:
    """A draft invoice of 120.00 EUR for a client with an email and a phone (by default)."""
    fields = {"email": EMAIL, "phone": PHONE, **client_fields}
    buyer = await create_client(
        client, account, "Acme", **{k: v for k, v in fields.items() if v is not None}
    )
    return await create_invoice(client, account, buyer["id"])


async def send(
    client: AsyncTestClient[Any],
    account: Account,
    invoice_id: str,
    channels: list[str],
    **extra: Any,
) -> dict[str, Any]:
    response = await client.post(
        send_url(invoice_id), headers=account.headers, json={"channels": channels, **extra}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def events_of(client: AsyncTestClient[Any], account: Account, invoice_id: str) -> list[str]:
    body = await get_json(client, account, f"{INVOICES}/{invoice_id}/events")
    return [event["type"] for event in body["data"]]


async def messages_of(
    client: AsyncTestClient[Any], account: Account, invoice_id: str | None = None, **query: Any
) -> dict[str, Any]:
    params = {**query, **({"invoice_id": invoice_id} if invoice_id else {})}
    response = await client.get(MESSAGES, headers=account.headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# -- validation: 422 naming the field, 400, nothing written -----------------------------------


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["channels"]),
        ({"reminder": False}, ["channels"]),
        ({"channels": []}, ["channels"]),
        ({"channels": None}, ["channels"]),
        ({"channels": "email"}, ["channels"]),
        ({"channels": {"email": True}}, ["channels"]),
        ({"channels": ["fax"]}, ["channels[0]"]),
        ({"channels": ["email", "pigeon"]}, ["channels[1]"]),
        ({"channels": ["link", 3]}, ["channels[1]"]),
        ({"channels": ["link", None]}, ["channels[1]"]),
        ({"channels": ["link", ["email"]]}, ["channels[1]"]),
        ({"channels": ["EMAIL"]}, ["channels[0]"]),
        ({"channels": ["email", "email"]}, ["channels"]),
        ({"channels": ["link", "sms", "link"]}, ["channels"]),
        ({"channels": ["link"], "priority": "high"}, ["priority"]),
        ({"channels": ["link"], "reminder": "yes"}, ["reminder"]),
        ({"channels": ["link"], "reminder": None}, ["reminder"]),
        ({"channels": ["fax"], "when": "now"}, ["channels[0]", "when"]),
    ],
)
async def test_an_invalid_send_body_is_a_422_naming_the_field(
    client: AsyncTestClient[Any],
    account: Account,
    store: StoreProbe,
    body: dict[str, Any],
    fields: list[str],
) -> None:
    invoice = await draft(client, account)
    await assert_rejected(
        client,
        store,
        "POST",
        send_url(invoice["id"]),
        headers=account.headers,
        json=body,
        status=422,
        fields=fields,
    )
    assert await events_of(client, account, invoice["id"]) == ["created"]


@pytest.mark.parametrize(
    ("missing", "channels", "fields"),
    [
        ({"email": None}, ["email"], ["channels"]),
        ({"email": None}, ["link", "email"], ["channels"]),
        ({"phone": None}, ["sms"], ["channels"]),
        ({"phone": None}, ["email", "sms"], ["channels"]),
        ({"email": None, "phone": None}, ["email", "sms", "link"], ["channels", "channels"]),
    ],
)
async def test_a_channel_needs_the_clients_address(
    client: AsyncTestClient[Any],
    account: Account,
    store: StoreProbe,
    missing: dict[str, Any],
    channels: list[str],
    fields: list[str],
) -> None:
    invoice = await draft(client, account, **missing)
    body = await assert_rejected(
        client,
        store,
        "POST",
        send_url(invoice["id"]),
        headers=account.headers,
        json={"channels": channels},
        status=422,
        fields=fields,
    )
    messages = " ".join(error["message"] for error in body["errors"])
    for field, channel in (("email", "email"), ("phone", "sms")):
        if field in missing and channel in channels:
            assert f"{channel} needs the client's {field}" in messages, messages
    assert await events_of(client, account, invoice["id"]) == ["created"]
    # With a usable channel set the same invoice sends (the refusal left it a draft).
    usable = [c for c in ("email", "sms") if {"email": "email", "sms": "phone"}[c] not in missing]
    sent = await send(client, account, invoice["id"], [*usable, "link"])
    assert sent["invoice"]["status"] == "sent"


# -- state conflicts: 409, nothing written ----------------------------------------------------


async def _in_state(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, state: str
) -> dict[str, Any]:
    """A fresh invoice in `state`, sent (if at all) by link only."""
    invoice = await draft(client, account)
    url = f"{INVOICES}/{invoice['id']}"
    if state in ("sent", "paid", "opened", "overdue"):
        await send(client, account, invoice["id"], ["link"])
    if state == "paid":
        paid = await client.post(
            f"{url}/payments",
            headers=account.headers,
            json={"amount_cents": TOTAL, "method": "bank_transfer"},
        )
        assert paid.status_code == 201, paid.text
    if state == "opened":
        invoicing.open_invoice(account.business_id, UUID(invoice["id"]))
    if state == "overdue":
        invoicing.mark_overdue(
            account.business_id, UUID(invoice["id"]), today_utc() + timedelta(60)
        )
    if state == "cancelled":
        cancelled = await client.post(f"{url}/cancel", headers=account.headers)
        assert cancelled.status_code == 200, cancelled.text
    database_url = client.app.state.services.settings.database_url
    settle(database_url)
    assert (await get_json(client, account, url))["status"] == state
    return invoice


@pytest.mark.parametrize(
    ("state", "reminder"),
    [
        ("sent", False),
        ("cancelled", False),
        ("paid", False),
        ("opened", False),
        ("overdue", False),
        ("draft", True),
        ("cancelled", True),
        ("paid", True),
    ],
)
async def test_a_send_not_allowed_in_the_invoice_state_is_a_409(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    store: StoreProbe,
    state: str,
    reminder: bool,
) -> None:
    invoice = await _in_state(client, account, invoicing, state)
    before = await events_of(client, account, invoice["id"])
    messages = (await messages_of(client, account, invoice["id"]))["total"]
    body = await assert_rejected(
        client,
        store,
        "POST",
        send_url(invoice["id"]),
        headers=account.headers,
        json={"channels": ["email", "sms"], "reminder": reminder},
        status=409,
    )
    assert state in body["detail"]
    assert await events_of(client, account, invoice["id"]) == before
    assert (await messages_of(client, account, invoice["id"]))["total"] == messages


# -- tenancy ---------------------------------------------------------------------------------


async def test_another_business_cannot_send_nor_read_the_outbox(
    client: AsyncTestClient[Any],
    account: Account,
    new_account: Callable[..., Account],
    store: StoreProbe,
) -> None:
    invoice = await draft(client, account)
    await send(client, account, invoice["id"], ["email", "sms"])
    other = new_account("Other Co")
    own = await draft(client, other)
    await send(client, other, own["id"], ["email"])
    url = send_url(invoice["id"])
    foreign = await assert_rejected(
        client, store, "POST", url, headers=other.headers, json={"channels": ["link"]}, status=404
    )
    reminder = await assert_rejected(
        client,
        store,
        "POST",
        url,
        headers=other.headers,
        json={"channels": ["email"], "reminder": True},
        status=404,
    )
    unknown = await assert_rejected(
        client,
        store,
        "POST",
        send_url(str(uuid4())),
        headers=other.headers,
        json={"channels": ["link"]},
        status=404,
    )
    garbage = await assert_rejected(
        client,
        store,
        "POST",
        send_url("not-a-uuid"),
        headers=other.headers,
        json={"channels": ["link"]},
        status=404,
    )
    # Indistinguishable from an id that does not exist.
    assert foreign == unknown == garbage == reminder
    # A foreign key sees only its own messages, with or without the filter.
    listed = await messages_of(client, other)
    assert {m["invoice_id"] for m in listed["data"]} == {own["id"]}
    assert listed["total"] == 1
    filtered = await messages_of(client, other, invoice["id"])
    assert (filtered["data"], filtered["total"]) == ([], 0)
    assert (await messages_of(client, account, invoice["id"]))["total"] == 2
    assert await events_of(client, account, invoice["id"]) == [
        "created",
        "sent",
        "delivered",
        "delivered",
    ]


async def test_send_and_the_outbox_need_an_api_key(
    client: AsyncTestClient[Any], account: Account
) -> None:
    invoice = await draft(client, account)
    response = await client.post(send_url(invoice["id"]), json={"channels": ["link"]})
    assert_problem(response, 401)
    assert_problem(await client.get(MESSAGES), 401)
    assert await events_of(client, account, invoice["id"]) == ["created"]


# -- sandbox sending --------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["fr", "en", "nb", "sv"])
async def test_a_sandbox_send_keeps_localised_messages_readable_at_once(
    client: AsyncTestClient[Any], new_account: Callable[..., Account], locale: str
) -> None:
    account = new_account("Nordic Design", legal_name="Nordic Design AS")
    invoice = await draft(client, account, locale=locale)
    number, public_url = invoice["number"], invoice["public_url"]
    sent = await send(client, account, invoice["id"], ["email", "sms", "link"])

    assert sent["invoice"]["id"] == invoice["id"]
    assert sent["invoice"]["status"] == "sent"
    assert sent["invoice"]["number"] == number
    assert sent["invoice"]["public_url"] == public_url
    assert sent["deliveries"] == [
        {"channel": "email", "to": EMAIL, "status": "simulated", "url": public_url},
        {"channel": "sms", "to": PHONE, "status": "simulated", "url": public_url},
        {"channel": "link", "to": None, "status": "simulated", "url": public_url},
    ]

    # Right after the answer, no settling: the outbox shows both messages; `link` adds none.
    outbox = await messages_of(client, account, invoice["id"])
    assert (outbox["total"], outbox["page"], outbox["per_page"]) == (2, 1, 50)
    by_channel = {m["channel"]: m for m in outbox["data"]}
    assert set(by_channel) == {"email", "sms"}
    texts = {
        k: v.format(number=number, seller="Nordic Design AS") for k, v in LOCALISED[locale].items()
    }

    email = by_channel["email"]
    assert email["to"] == EMAIL
    assert email["invoice_id"] == invoice["id"]
    assert email["url"] == public_url
    assert email["subject"] == texts["subject"]
    assert email["body"].startswith(texts["greeting"])
    for part in (number, texts["total"], public_url, "Nordic Design AS"):
        assert part in email["body"], (part, email["body"])
    # The PDF that went with the email (kept as metadata in the sandbox outbox).
    (attachment,) = email["attachments"]
    assert (attachment["filename"], attachment["content_type"]) == (
        f"{number}.pdf",
        "application/pdf",
    )
    pdf = await client.get(f"{INVOICES}/{invoice['id']}/pdf", headers=account.headers)
    assert attachment["size"] == len(pdf.content) > 0

    sms = by_channel["sms"]
    assert (sms["to"], sms["subject"], sms["url"]) == (PHONE, None, public_url)
    for part in (texts["sms"], texts["total"], public_url):
        assert part in sms["body"], (part, sms["body"])
    assert sms["attachments"] == []
    # The message ids are the delivery ids recorded in the `sent` event.
    events = (await get_json(client, account, f"{INVOICES}/{invoice['id']}/events"))["data"]
    assert [e["type"] for e in events] == ["created", "sent", "delivered", "delivered", "delivered"]
    decided = {d["channel"]: d["id"] for d in events[1]["data"]["deliveries"]}
    assert {m["id"] for m in outbox["data"]} == {decided["email"], decided["sms"]}
    assert {e["data"]["delivery_id"] for e in events[2:]} == set(decided.values())
    fetched = await get_json(client, account, f"{INVOICES}/{invoice['id']}")
    assert fetched["status"] == "sent"


async def test_link_only_sends_no_message(client: AsyncTestClient[Any], account: Account) -> None:
    invoice = await draft(client, account, email=None, phone=None)
    sent = await send(client, account, invoice["id"], ["link"])
    assert sent["deliveries"] == [
        {"channel": "link", "to": None, "status": "simulated", "url": invoice["public_url"]}
    ]
    assert (await messages_of(client, account, invoice["id"]))["total"] == 0
    assert await events_of(client, account, invoice["id"]) == ["created", "sent", "delivered"]


@pytest.mark.parametrize("state", ["sent", "opened", "overdue"])
async def test_a_reminder_records_reminder_sent_and_delivers_reminder_texts(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    state: str,
) -> None:
    invoice = await _in_state(client, account, invoicing, state)
    paid = await client.post(
        f"{INVOICES}/{invoice['id']}/payments",
        headers=account.headers,
        json={"amount_cents": 2000, "method": "card"},
    )
    assert paid.status_code == 201, paid.text
    before = await events_of(client, account, invoice["id"])
    reminded = await send(client, account, invoice["id"], ["email", "sms"], reminder=True)
    assert reminded["invoice"]["status"] == state  # a reminder changes no status
    assert [(d["channel"], d["status"]) for d in reminded["deliveries"]] == [
        ("email", "simulated"),
        ("sms", "simulated"),
    ]
    assert await events_of(client, account, invoice["id"]) == [
        *before,
        "reminder_sent",
        "delivered",
        "delivered",
    ]
    outbox = await messages_of(client, account, invoice["id"])
    assert outbox["total"] == 2  # the first send was by link only
    by_channel = {m["channel"]: m for m in outbox["data"]}
    number = invoice["number"]
    assert by_channel["email"]["subject"] == f"Reminder: invoice {number} from Test Business"
    # A reminder names what is still due: 120.00 - 20.00.
    for message in by_channel.values():
        assert "€100.00" in message["body"], message["body"]
        assert invoice["public_url"] in message["body"]
    assert "reminder" in by_channel["sms"]["body"]
    # A second reminder is a new decision with new deliveries.
    again = await send(client, account, invoice["id"], ["email"], reminder=True)
    assert again["deliveries"][0]["status"] == "simulated"
    assert (await messages_of(client, account, invoice["id"]))["total"] == 3


@pytest.mark.parametrize("locale", ["fr", "nb", "sv"])
async def test_reminder_subjects_are_localised(
    client: AsyncTestClient[Any], account: Account, locale: str
) -> None:
    invoice = await draft(client, account, locale=locale)
    await send(client, account, invoice["id"], ["link"])
    await send(client, account, invoice["id"], ["email"], reminder=True)
    (message,) = (await messages_of(client, account, invoice["id"]))["data"]
    expected = LOCALISED[locale]["reminder_subject"].format(
        number=invoice["number"], seller="Test Business"
    )
    assert message["subject"] == expected
    assert LOCALISED[locale]["total"] in message["body"]


# -- the outbox: newest first, filter, pages ------------------------------------------------


async def test_the_outbox_lists_newest_first_and_pages(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    account = new_account("Outbox Co")
    first = await draft(client, account)
    second = await draft(client, account)
    await send(client, account, first["id"], ["email"])
    await send(client, account, second["id"], ["email", "sms"])
    everything = await messages_of(client, account)
    assert everything["total"] == 3
    assert [m["invoice_id"] for m in everything["data"]] == [second["id"]] * 2 + [first["id"]]
    stamps = [m["created_at"] for m in everything["data"]]
    assert stamps == sorted(stamps, reverse=True)
    only_first = await messages_of(client, account, first["id"])
    assert [(m["invoice_id"], m["channel"]) for m in only_first["data"]] == [(first["id"], "email")]
    pages = [await messages_of(client, account, page=p, per_page=1) for p in (1, 2, 3, 4)]
    assert [p["total"] for p in pages] == [3, 3, 3, 3]
    assert [m["id"] for p in pages[:3] for m in p["data"]] == [m["id"] for m in everything["data"]]
    assert pages[3]["data"] == []
    assert (pages[1]["page"], pages[1]["per_page"]) == (2, 1)
    unknown = await messages_of(client, account, str(uuid4()))
    assert (unknown["data"], unknown["total"]) == ([], 0)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"page": 0}, "page"),
        ({"page": -1}, "page"),
        ({"page": "x"}, "page"),
        ({"per_page": 0}, "per_page"),
        ({"per_page": 101}, "per_page"),
        ({"per_page": "many"}, "per_page"),
        ({"invoice_id": "not-a-uuid"}, "invoice_id"),
    ],
)
async def test_outbox_query_validation_is_a_422(
    client: AsyncTestClient[Any], account: Account, query: dict[str, Any], field: str
) -> None:
    response = await client.get(MESSAGES, headers=account.headers, params=query)
    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == [field], body


# -- concurrency and idempotency -------------------------------------------------------------


async def test_fifteen_concurrent_sends_of_one_draft_send_it_once(
    client: AsyncTestClient[Any], account: Account, database_url: str
) -> None:
    invoice = await draft(client, account)
    body = {"channels": ["email", "sms", "link"]}
    responses = await concurrently(
        client,
        [("POST", send_url(invoice["id"]), {"headers": account.headers, "json": body})] * 15,
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 14, [r.text for r in responses if r.status_code != 409]
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409)
    (winner,) = [r.json() for r in responses if r.status_code == 200]
    assert [d["status"] for d in winner["deliveries"]] == ["simulated"] * 3
    settle(database_url)
    assert await events_of(client, account, invoice["id"]) == [
        "created",
        "sent",
        "delivered",
        "delivered",
        "delivered",
    ]
    outbox = await messages_of(client, account, invoice["id"])
    assert sorted(m["channel"] for m in outbox["data"]) == ["email", "sms"]
    assert outbox["total"] == 2


async def test_concurrent_sends_with_one_idempotency_key_all_get_the_one_answer(
    client: AsyncTestClient[Any], account: Account, database_url: str
) -> None:
    invoice = await draft(client, account)
    headers = {**account.headers, "Idempotency-Key": f"send-{uuid4()}"}
    body = {"channels": ["email"]}
    responses = await concurrently(
        client, [("POST", send_url(invoice["id"]), {"headers": headers, "json": body})] * 8
    )
    assert [r.status_code for r in responses] == [200] * 8, [r.text for r in responses]
    assert len({r.content for r in responses}) == 1
    settle(database_url)
    assert await events_of(client, account, invoice["id"]) == ["created", "sent", "delivered"]
    assert (await messages_of(client, account, invoice["id"]))["total"] == 1


async def test_an_idempotency_key_replays_the_send_and_does_nothing_twice(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe, database_url: str
) -> None:
    invoice = await draft(client, account)
    other = await draft(client, account)
    headers = {**account.headers, "Idempotency-Key": f"send-{uuid4()}"}
    url = send_url(invoice["id"])
    first = await client.post(url, headers=headers, json={"channels": ["email", "sms"]})
    assert first.status_code == 200, first.text
    settle(database_url)
    before = store.snapshot()
    events = await events_of(client, account, invoice["id"])
    assert events == ["created", "sent", "delivered", "delivered"]

    # Same key, same request (spacing and key order do not count): the same answer, replayed.
    replay = await client.post(
        url,
        headers={**headers, "Content-Type": "application/json"},
        content=b'{ "channels": [ "email","sms" ] }',
    )
    assert replay.status_code == 200, replay.text
    assert replay.content == first.content
    assert replay.headers.get("idempotent-replayed") == "true"
    settle(database_url)
    assert store.snapshot() == before
    assert await events_of(client, account, invoice["id"]) == events
    assert (await messages_of(client, account, invoice["id"]))["total"] == 2

    # Same key, another body, or another invoice: 409, nothing done.
    for target, body in (
        (url, {"channels": ["email"]}),
        (url, {"channels": ["email", "sms"], "reminder": True}),
        (send_url(other["id"]), {"channels": ["email", "sms"]}),
    ):
        await assert_rejected(client, store, "POST", target, headers=headers, json=body, status=409)
    assert await events_of(client, account, invoice["id"]) == events
    assert await events_of(client, account, other["id"]) == ["created"]
    assert (await messages_of(client, account, invoice["id"]))["total"] == 2

    # Without the key, a second first-send is the ordinary 409.
    await assert_rejected(
        client,
        store,
        "POST",
        url,
        headers=account.headers,
        json={"channels": ["email", "sms"]},
        status=409,
    )


async def test_a_refused_send_releases_its_idempotency_key(
    client: AsyncTestClient[Any], account: Account
) -> None:
    invoice = await draft(client, account, email=None)
    headers = {**account.headers, "Idempotency-Key": f"send-{uuid4()}"}
    url = send_url(invoice["id"])
    refused = await client.post(url, headers=headers, json={"channels": ["email"]})
    assert_problem(refused, 422)
    fixed = await client.post(url, headers=headers, json={"channels": ["link"]})
    assert fixed.status_code == 200, fixed.text
    assert await events_of(client, account, invoice["id"]) == ["created", "sent", "delivered"]
