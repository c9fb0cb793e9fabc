"""Stripe card payments end to end against a real local Stripe-compatible server (localstripe,
tests/payments/stripe_server.py), through the SDK, the API and the payments worker.

The issue's "must show": sending creates exactly one PaymentIntent with the right amount,
currency and metadata (also after a crash and a retry); a signed `payment_intent.succeeded`
makes the invoice paid; the same event delivered three times records one payment; a bad
signature answers 400 and records nothing; a payment for a cancelled invoice is kept in the
inbox and reported, not applied.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import msgspec
import psycopg
import pytest
import stripe
from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from fastfaktura.payments.gateway import StripeGateway
from fastfaktura.payments.worker import PaymentWorker, payment_intent_key
from tests.helpers import assert_problem
from tests.invoicing_support import INVOICES, get_json
from tests.payments.conftest import (
    TEST_SECRET_KEY,
    WEBHOOK_SECRET,
    PayAccount,
    new_pay_account,
    stripe_settings,
)
from tests.payments.support import (
    TOTAL,
    drain,
    events_of,
    record_payment,
    sent_invoice,
    types,
)

WEBHOOK = "/api/v1/webhooks/stripe"


class SimulatedCrash(BaseException):
    """The process dies between creating the PaymentIntent and recording it (a BaseException,
    like SystemExit: nothing in the worker handles it)."""


async def intents_for(stripe_api: str, invoice_id: str) -> list[dict[str, Any]]:
    """Every PaymentIntent in the Stripe account whose metadata names this invoice."""
    async with httpx.AsyncClient(base_url=stripe_api) as http:
        response = await http.get(
            "/v1/payment_intents",
            params={"limit": 100},
            headers={"Authorization": f"Bearer {TEST_SECRET_KEY}"},
        )
    response.raise_for_status()
    intents: list[dict[str, Any]] = response.json()["data"]
    return [pi for pi in intents if pi["metadata"].get("invoice_id") == invoice_id]


async def pay(stripe_test: stripe.StripeClient, stripe_api: str, intent_id: str) -> bytes:
    """The client pays by card (test card 4242...): Stripe confirms the intent and emits
    `payment_intent.succeeded`. Returns that event as Stripe's server serialises it."""
    method = await stripe_test.v1.payment_methods.create_async(
        {
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    await stripe_test.v1.payment_intents.update_async(intent_id, {"payment_method": method.id})
    confirmed = await stripe_test.v1.payment_intents.confirm_async(intent_id)
    assert confirmed.status == "succeeded"
    async with httpx.AsyncClient(base_url=stripe_api) as http:
        response = await http.get(
            "/v1/events",
            params={"type": "payment_intent.succeeded", "limit": 100},
            headers={"Authorization": f"Bearer {TEST_SECRET_KEY}"},
        )
    response.raise_for_status()
    (event,) = [e for e in response.json()["data"] if e["data"]["object"]["id"] == intent_id]
    return msgspec.json.encode(event)


def signed(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe computes (t=..., v1=HMAC-SHA256)."""
    return stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, timestamp=timestamp
    )


async def deliver(
    client: AsyncTestClient[Any], payload: bytes, signature: str | None
) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return await client.post(WEBHOOK, content=payload, headers=headers)


def inbox(url: str, event_id: str | None = None) -> list[dict[str, Any]]:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        if event_id is None:
            cur.execute("SELECT * FROM stripe_inbox ORDER BY received_at")
        else:
            cur.execute("SELECT * FROM stripe_inbox WHERE event_id = %s", (event_id,))
        return list(cur.fetchall())


def counts(url: str) -> tuple[int, int]:
    """(events in the store, rows in the inbox)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM invoicing_events), (SELECT count(*) FROM stripe_inbox)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


# -- PaymentIntents ---------------------------------------------------------------------------


async def test_sending_creates_one_payment_intent_with_amount_currency_and_metadata(
    pay_client: AsyncTestClient[Any],
    pay_account: PayAccount,
    pay_url: str,
    worker: PaymentWorker,
    stripe_api: str,
    stripe_test: stripe.StripeClient,
) -> None:
    invoice = await sent_invoice(pay_client, pay_account)
    await drain(worker, pay_url)

    (intent,) = await intents_for(stripe_api, invoice["id"])
    assert (intent["amount"], intent["currency"], intent["status"]) == (
        TOTAL,
        "eur",
        "requires_payment_method",
    )
    assert intent["metadata"] == {
        "invoice_id": invoice["id"],
        "business_id": str(pay_account.business_id),
        "invoice_number": invoice["number"],
    }
    events = await events_of(pay_client, pay_account, invoice["id"])
    assert types(events) == ["created", "sent", "payment_requested"]
    assert events[-1]["data"] == {
        "provider": "stripe",
        "payment_intent_id": intent["id"],
        "amount_cents": TOTAL,
        "currency": "EUR",
        "livemode": False,
    }
    # A sandbox business uses the test key: the intent lives in test mode.
    fetched = await stripe_test.v1.payment_intents.retrieve_async(intent["id"])
    assert fetched.livemode is False

    # More runs, and a restarted worker, find nothing more to do.
    await drain(worker, pay_url)
    await drain(PaymentWorker(worker.pool, worker.app, worker.gateway), pay_url)
    assert len(await intents_for(stripe_api, invoice["id"])) == 1
    assert types(await events_of(pay_client, pay_account, invoice["id"]))[-1] == (
        "payment_requested"
    )


async def test_a_crash_between_creating_and_recording_the_intent_creates_no_second_one(
    pay_client: AsyncTestClient[Any],
    pay_account: PayAccount,
    pay_url: str,
    pay_pool: asyncpg.Pool,
    pay_invoicing: Invoicing,
    gateway: StripeGateway,
    stripe_api: str,
) -> None:
    class CrashingWorker(PaymentWorker):
        async def _record_request(self, *args: Any) -> None:
            raise SimulatedCrash

    invoice = await sent_invoice(pay_client, pay_account)
    with pytest.raises(SimulatedCrash):
        await CrashingWorker(pay_pool, pay_invoicing, gateway).run_once()
    # The intent exists at Stripe; nothing about it was recorded.
    (first,) = await intents_for(stripe_api, invoice["id"])
    assert types(await events_of(pay_client, pay_account, invoice["id"])) == ["created", "sent"]

    # The restarted worker asks again, with the same idempotency key: the same intent.
    await drain(PaymentWorker(pay_pool, pay_invoicing, gateway), pay_url)
    (again,) = await intents_for(stripe_api, invoice["id"])
    assert again["id"] == first["id"]
    events = await events_of(pay_client, pay_account, invoice["id"])
    assert types(events) == ["created", "sent", "payment_requested"]
    assert events[-1]["data"]["payment_intent_id"] == first["id"]


async def test_the_idempotency_key_is_derived_from_the_invoice_and_the_amount() -> None:
    invoice_id = uuid4()
    key = payment_intent_key(invoice_id, TOTAL)
    assert key == payment_intent_key(invoice_id, TOTAL)
    assert str(invoice_id) in key
    assert key != payment_intent_key(invoice_id, TOTAL - 1)
    assert key != payment_intent_key(uuid4(), TOTAL)


async def test_no_key_for_the_business_mode_means_no_payment_intent(
    pay_client: AsyncTestClient[Any],
    pay_invoicing: Invoicing,
    pay_url: str,
    pay_pool: asyncpg.Pool,
    stripe_api: str,
) -> None:
    live = new_pay_account(pay_invoicing, pay_url, mode="live")
    invoice = await sent_invoice(pay_client, live)
    test_only = StripeGateway(stripe_settings(stripe_api, live_secret_key=None))
    await drain(PaymentWorker(pay_pool, pay_invoicing, test_only), pay_url)
    assert await intents_for(stripe_api, invoice["id"]) == []
    assert types(await events_of(pay_client, live, invoice["id"])) == ["created", "sent"]


async def test_a_stripe_outage_is_retried_later_and_records_nothing(
    pay_client: AsyncTestClient[Any],
    pay_account: PayAccount,
    pay_url: str,
    pay_pool: asyncpg.Pool,
    pay_invoicing: Invoicing,
    stripe_api: str,
) -> None:
    invoice = await sent_invoice(pay_client, pay_account)
    # Nothing listens there: a connection error, as when Stripe is unreachable.
    down = StripeGateway(stripe_settings("http://127.0.0.1:9"), timeout_seconds=1)
    down_worker = PaymentWorker(pay_pool, pay_invoicing, down)
    assert await down_worker.run_once() >= 1
    with psycopg.connect(pay_url) as conn:
        row = conn.execute(
            "SELECT attempts, next_attempt_at > now(), last_error FROM payment_request_attempts"
            " WHERE invoice_id = %s",
            (invoice["id"],),
        ).fetchone()
    assert row is not None
    attempts, later, error = row
    assert (attempts, later) == (1, True)
    assert "Stripe" in error
    assert types(await events_of(pay_client, pay_account, invoice["id"])) == ["created", "sent"]
    assert await intents_for(stripe_api, invoice["id"]) == []
    # Backing off: the invoice is not tried again at once.
    due = await pay_pool.fetch(
        "SELECT 1 FROM payment_request_attempts WHERE invoice_id = $1 AND next_attempt_at <= now()",
        UUID(invoice["id"]),
    )
    assert due == []

    # Later (the backoff is made to pass here), with Stripe back: the intent is created.
    await pay_pool.execute(
        "UPDATE payment_request_attempts SET next_attempt_at = now() WHERE invoice_id = $1",
        UUID(invoice["id"]),
    )
    await drain(
        PaymentWorker(pay_pool, pay_invoicing, StripeGateway(stripe_settings(stripe_api))), pay_url
    )
    assert len(await intents_for(stripe_api, invoice["id"])) == 1
    assert types(await events_of(pay_client, pay_account, invoice["id"]))[-1] == (
        "payment_requested"
    )


# -- webhooks ---------------------------------------------------------------------------------


async def requested(
    client: AsyncTestClient[Any], account: PayAccount, worker: PaymentWorker, url: str
) -> tuple[dict[str, Any], str]:
    """A sent invoice with its PaymentIntent created and recorded."""
    invoice = await sent_invoice(client, account)
    await drain(worker, url)
    events = await events_of(client, account, invoice["id"])
    return invoice, events[-1]["data"]["payment_intent_id"]


async def test_a_signed_payment_intent_succeeded_makes_the_invoice_paid(
    pay_client: AsyncTestClient[Any],
    pay_account: PayAccount,
    pay_url: str,
    worker: PaymentWorker,
    stripe_api: str,
    stripe_test: stripe.StripeClient,
) -> None:
    invoice, intent_id = await requested(pay_client, pay_account, worker, pay_url)
    payload = await pay(stripe_test, stripe_api, intent_id)
    event_id = msgspec.json.decode(payload)["id"]

    response = await deliver(pay_client, payload, signed(payload))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": event_id,
        "type": "payment_intent.succeeded",
        "first_delivery": True,
    }
    (kept,) = inbox(pay_url, event_id)
    assert (kept["status"], kept["payment_intent_id"]) == ("received", intent_id)

    await drain(worker, pay_url)
    body = await get_json(pay_client, pay_account, f"{INVOICES}/{invoice['id']}")  # type: ignore[arg-type]
    assert (body["status"], body["amount_paid_cents"], body["amount_due_cents"]) == (
        "paid",
        TOTAL,
        0,
    )
    events = await events_of(pay_client, pay_account, invoice["id"])
    assert types(events)[-2:] == ["payment_recorded", "paid"]
    assert events[-2]["data"]["amount_cents"] == TOTAL
    assert events[-2]["data"]["method"] == "card"
    assert events[-2]["data"]["reference"] == intent_id
    (settled,) = inbox(pay_url, event_id)
    assert settled["status"] == "applied"
    assert (settled["business_id"], settled["invoice_id"]) == (
        pay_account.business_id,
        UUID(invoice["id"]),
    )


async def test_the_same_event_delivered_three_times_records_one_payment(
    pay_client: AsyncTestClient[Any],
    pay_account: PayAccount,
    pay_url: str,
    worker: PaymentWorker,
    stripe_api: str,
    stripe_test: stripe.StripeClient,
) -> None:
    invoice, intent_id = await requested(pay_client, pay_account, worker, pay_url)
    payload = await pay(stripe_test, stripe_api, intent_id)
    event_id = msgspec.json.decode(payload)["id"]

    # Stripe retries (a timeout on its side): before, between and after the worker's runs.
    first = await deliver(pay_client, payload, signed(payload))
    await drain(worker, pay_url)
    second = await deliver(pay_client, payload, signed(payload))
    third = await deliver(pay_client, payload, signed(payload))
    await drain(worker, pay_url)
    assert [r.status_code for r in (first, second, third)] == [200, 200, 200]
    assert [r.json()["first_delivery"] for r in (first, second, third)] == [True, False, False]

    (kept,) = inbox(pay_url, event_id)
    assert (kept["deliveries"], kept["status"]) == (3, "applied")
    events = await events_of(pay_client, pay_account, invoice["id"])
    assert types(events).count("payment_recorded") == 1
    assert types(events).count("paid") == 1

    # Another event about the same PaymentIntent (a new id, in any order): still one payment.
    other = msgspec.json.decode(payload)
    other["id"] = f"evt_{uuid4().hex[:14]}"
    other_payload = msgspec.json.encode(other)
    assert (await deliver(pay_client, other_payload, signed(other_payload))).status_code == 200
    await drain(worker, pay_url)
    (also,) = inbox(pay_url, other["id"])
    assert also["status"] == "applied"
    assert "already recorded" in also["outcome"]
    events = await events_of(pay_client, pay_account, invoice["id"])
    assert types(events).count("payment_recorded") == 1


@pytest.mark.parametrize(
    "case",
    [
        "missing header",
        "wrong secret",
        "tampered body",
        "garbage header",
        "too old",
        "not utf-8",
        "empty body",
    ],
)
async def test_a_bad_signature_answers_400_and_records_nothing(
    pay_client: AsyncTestClient[Any],
    pay_account: PayAccount,
    pay_url: str,
    worker: PaymentWorker,
    stripe_api: str,
    stripe_test: stripe.StripeClient,
    case: str,
) -> None:
    invoice, intent_id = await requested(pay_client, pay_account, worker, pay_url)
    payload = await pay(stripe_test, stripe_api, intent_id)
    signature: str | None = signed(payload)
    if case == "missing header":
        signature = None
    elif case == "wrong secret":
        signature = signed(payload, secret="whsec_somebody_else")
    elif case == "tampered body":
        payload = payload.replace(b'"livemode":false', b'"livemode":true ')
    elif case == "garbage header":
        signature = "t=yesterday,v1=zz,v0"
    elif case == "too old":
        signature = signed(payload, timestamp=int(time.time()) - 3600)
    elif case == "not utf-8":
        payload = b"\xff\xfe" + payload
    elif case == "empty body":
        payload = b""
    before = counts(pay_url)

    response = await deliver(pay_client, payload, signature)
    problem = assert_problem(response, 400)
    assert [e["field"] for e in problem["errors"]] == ["Stripe-Signature"]
    await drain(worker, pay_url)
    assert counts(pay_url) == before
    body = await get_json(pay_client, pay_account, f"{INVOICES}/{invoice['id']}")  # type: ignore[arg-type]
    assert body["status"] == "sent"


async def test_a_signed_body_that_is_not_a_stripe_event_is_refused(
    pay_client: AsyncTestClient[Any], pay_url: str
) -> None:
    before = counts(pay_url)
    for payload in (b"[]", b'{"id": "evt_1"}', b"not json", b'{"id": 1, "type": "x"}'):
        response = await deliver(pay_client, payload, signed(payload))
        assert_problem(response, 400)
    assert counts(pay_url) == before


async def test_a_payment_for_a_cancelled_invoice_is_kept_and_reported_not_applied(
    pay_client: AsyncTestClient[Any],
    pay_account: PayAccount,
    pay_url: str,
    worker: PaymentWorker,
    stripe_api: str,
    stripe_test: stripe.StripeClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    invoice, intent_id = await requested(pay_client, pay_account, worker, pay_url)
    cancel = await pay_client.post(
        f"{INVOICES}/{invoice['id']}/cancel", headers=pay_account.headers, json={}
    )
    assert cancel.status_code == 200, cancel.text
    # The client had the page open and pays anyway.
    payload = await pay(stripe_test, stripe_api, intent_id)
    event_id = msgspec.json.decode(payload)["id"]
    assert (await deliver(pay_client, payload, signed(payload))).status_code == 200
    await drain(worker, pay_url)

    (kept,) = inbox(pay_url, event_id)
    assert kept["status"] == "needs_attention"
    assert "cancelled" in kept["outcome"]
    assert (kept["invoice_id"], kept["business_id"]) == (
        UUID(invoice["id"]),
        pay_account.business_id,
    )
    body = await get_json(pay_client, pay_account, f"{INVOICES}/{invoice['id']}")  # type: ignore[arg-type]
    assert (body["status"], body["amount_paid_cents"]) == ("cancelled", 0)
    assert "payment_recorded" not in types(await events_of(pay_client, pay_account, invoice["id"]))
    # Reported: a warning naming the event, and the operators' listing.
    assert "stripe event needs attention" in capsys.readouterr().out
    attention = [row["event_id"] for row in inbox(pay_url) if row["status"] == "needs_attention"]
    assert event_id in attention


def event_for(
    intent: dict[str, Any], *, livemode: bool = False, event_type: str = "payment_intent.succeeded"
) -> bytes:
    """A Stripe event around a PaymentIntent object (for cases Stripe's server cannot make)."""
    return msgspec.json.encode(
        {
            "id": f"evt_{uuid4().hex[:14]}",
            "object": "event",
            "type": event_type,
            "livemode": livemode,
            "created": int(time.time()),
            "api_version": "2017-08-15",
            "data": {"object": {"object": "payment_intent", "status": "succeeded", **intent}},
        }
    )


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("unknown invoice", "no such invoice"),
        ("another business", "no such invoice"),
        ("no metadata", "names no FastFaktura invoice"),
        ("other currency", "paid in USD"),
        ("more than due", "amount_cents"),
        ("live event, sandbox business", "live-mode payment for a sandbox business"),
    ],
)
async def test_payments_that_cannot_be_applied_are_kept_for_operators(
    pay_client: AsyncTestClient[Any],
    pay_account: PayAccount,
    pay_invoicing: Invoicing,
    pay_url: str,
    worker: PaymentWorker,
    case: str,
    reason: str,
) -> None:
    invoice, intent_id = await requested(pay_client, pay_account, worker, pay_url)
    metadata = {"invoice_id": invoice["id"], "business_id": str(pay_account.business_id)}
    intent: dict[str, Any] = {
        "id": intent_id,
        "amount": TOTAL,
        "amount_received": TOTAL,
        "currency": "eur",
        "metadata": metadata,
    }
    livemode = False
    if case == "unknown invoice":
        intent["metadata"] = {**metadata, "invoice_id": str(uuid4())}
    elif case == "another business":
        # Tenants are walls here too: an invoice is found only under its own business.
        other = new_pay_account(pay_invoicing, pay_url)
        intent["metadata"] = {**metadata, "business_id": str(other.business_id)}
    elif case == "no metadata":
        intent["metadata"] = {}
    elif case == "other currency":
        intent["currency"] = "usd"
    elif case == "more than due":
        intent["amount_received"] = TOTAL + 1
    elif case == "live event, sandbox business":
        livemode = True
    payload = event_for(intent, livemode=livemode)
    assert (await deliver(pay_client, payload, signed(payload))).status_code == 200
    await drain(worker, pay_url)

    (kept,) = inbox(pay_url, msgspec.json.decode(payload)["id"])
    assert kept["status"] == "needs_attention"
    assert reason in kept["outcome"]
    body = await get_json(pay_client, pay_account, f"{INVOICES}/{invoice['id']}")  # type: ignore[arg-type]
    assert (body["status"], body["amount_paid_cents"]) == ("sent", 0)


async def test_other_event_types_are_kept_as_ignored(
    pay_client: AsyncTestClient[Any], pay_url: str, worker: PaymentWorker
) -> None:
    payload = event_for(
        {"id": "pi_unrelated", "amount": 100, "currency": "eur", "metadata": {}},
        event_type="payment_intent.payment_failed",
    )
    assert (await deliver(pay_client, payload, signed(payload))).status_code == 200
    await drain(worker, pay_url)
    (kept,) = inbox(pay_url, msgspec.json.decode(payload)["id"])
    assert (kept["status"], kept["type"]) == ("ignored", "payment_intent.payment_failed")


async def test_a_partial_card_payment_leaves_the_rest_due(
    pay_client: AsyncTestClient[Any],
    pay_account: PayAccount,
    pay_url: str,
    worker: PaymentWorker,
) -> None:
    invoice, intent_id = await requested(pay_client, pay_account, worker, pay_url)
    payload = event_for(
        {
            "id": intent_id,
            "amount": TOTAL,
            "amount_received": 5000,
            "currency": "eur",
            "metadata": {"invoice_id": invoice["id"], "business_id": str(pay_account.business_id)},
        }
    )
    assert (await deliver(pay_client, payload, signed(payload))).status_code == 200
    await drain(worker, pay_url)
    body = await get_json(pay_client, pay_account, f"{INVOICES}/{invoice['id']}")  # type: ignore[arg-type]
    assert (body["status"], body["amount_paid_cents"], body["amount_due_cents"]) == (
        "sent",
        5000,
        TOTAL - 5000,
    )


# -- the intent follows the invoice -----------------------------------------------------------


async def intent_at_stripe(stripe_test: stripe.StripeClient, intent_id: str) -> Any:
    return await stripe_test.v1.payment_intents.retrieve_async(intent_id)


async def test_a_bank_payment_after_the_intent_makes_it_ask_for_the_rest(
    pay_client: AsyncTestClient[Any],
    pay_account: PayAccount,
    pay_url: str,
    worker: PaymentWorker,
    stripe_api: str,
    stripe_test: stripe.StripeClient,
) -> None:
    invoice, intent_id = await requested(pay_client, pay_account, worker, pay_url)
    await record_payment(pay_client, pay_account, invoice["id"], 5000)
    await drain(worker, pay_url)

    assert (await intent_at_stripe(stripe_test, intent_id)).amount == TOTAL - 5000
    events = await events_of(pay_client, pay_account, invoice["id"])
    assert types(events)[-2:] == ["payment_recorded", "payment_request_updated"]
    assert events[-1]["data"] == {"payment_intent_id": intent_id, "amount_cents": TOTAL - 5000}

    # The client pays the rest by card: the invoice is paid, to the cent.
    payload = await pay(stripe_test, stripe_api, intent_id)
    assert (await deliver(pay_client, payload, signed(payload))).status_code == 200
    await drain(worker, pay_url)
    body = await get_json(pay_client, pay_account, f"{INVOICES}/{invoice['id']}")  # type: ignore[arg-type]
    assert (body["status"], body["amount_paid_cents"], body["amount_due_cents"]) == (
        "paid",
        TOTAL,
        0,
    )
    assert len(await intents_for(stripe_api, invoice["id"])) == 1


@pytest.mark.parametrize("how", ["cancelled", "paid by bank transfer"])
async def test_an_invoice_that_asks_for_nothing_more_has_its_intent_cancelled(
    pay_client: AsyncTestClient[Any],
    pay_account: PayAccount,
    pay_url: str,
    worker: PaymentWorker,
    stripe_test: stripe.StripeClient,
    how: str,
) -> None:
    invoice, intent_id = await requested(pay_client, pay_account, worker, pay_url)
    if how == "cancelled":
        response = await pay_client.post(
            f"{INVOICES}/{invoice['id']}/cancel", headers=pay_account.headers, json={}
        )
        assert response.status_code == 200, response.text
    else:
        await record_payment(pay_client, pay_account, invoice["id"], TOTAL)
    await drain(worker, pay_url)

    assert (await intent_at_stripe(stripe_test, intent_id)).status == "canceled"
    events = await events_of(pay_client, pay_account, invoice["id"])
    assert types(events)[-1] == "payment_request_closed"
    assert events[-1]["data"]["payment_intent_id"] == intent_id
    assert "cancelled at Stripe" in events[-1]["data"]["reason"]
    # Done: more runs change nothing.
    await drain(worker, pay_url)
    assert len(await events_of(pay_client, pay_account, invoice["id"])) == len(events)


async def test_an_intent_paid_at_stripe_while_the_invoice_was_paid_by_hand_is_reported(
    pay_client: AsyncTestClient[Any],
    pay_account: PayAccount,
    pay_url: str,
    worker: PaymentWorker,
    stripe_api: str,
    stripe_test: stripe.StripeClient,
) -> None:
    """The client pays by card while the business records a bank transfer for the whole
    amount: the intent cannot be cancelled any more, and the card payment, when its webhook
    arrives, is kept for an operator (a refund is due), never counted twice."""
    invoice, intent_id = await requested(pay_client, pay_account, worker, pay_url)
    payload = await pay(stripe_test, stripe_api, intent_id)
    await record_payment(pay_client, pay_account, invoice["id"], TOTAL)
    await drain(worker, pay_url)
    events = await events_of(pay_client, pay_account, invoice["id"])
    assert types(events)[-1] == "payment_request_closed"
    assert "close refused" in events[-1]["data"]["reason"]

    assert (await deliver(pay_client, payload, signed(payload))).status_code == 200
    await drain(worker, pay_url)
    (kept,) = inbox(pay_url, msgspec.json.decode(payload)["id"])
    assert kept["status"] == "needs_attention"
    assert "paid" in kept["outcome"]
    body = await get_json(pay_client, pay_account, f"{INVOICES}/{invoice['id']}")  # type: ignore[arg-type]
    assert (body["status"], body["amount_paid_cents"]) == ("paid", TOTAL)
