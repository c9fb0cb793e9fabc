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

import msgspec
import pytest
import stripe

from fastfaktura.adapters.stripe_gateway import StripeGateway
from fastfaktura.policies.payments import PaymentWorker, payment_intent_key
from tests.helpers import assert_problem
from tests.invoicing_support import concurrently
from tests.payments.conftest import new_pay_account, stripe_settings
from tests.payments.support import (
    TOTAL,
    WEBHOOK,
    Shop,
    events_of,
    sent_invoice,
    signed,
    types,
)


class SimulatedCrash(BaseException):
    """The process dies between creating the PaymentIntent and recording it (a BaseException,
    like SystemExit: nothing in the worker handles it)."""


def event_id_of(payload: bytes) -> str:
    event_id: str = msgspec.json.decode(payload)["id"]
    return event_id


def worker_with(shop: Shop, gateway: StripeGateway) -> PaymentWorker:
    """Another payments worker on the same database (a restart, or other Stripe settings)."""
    return PaymentWorker(shop.worker.pool, shop.worker.app, gateway)


# -- PaymentIntents ---------------------------------------------------------------------------


async def test_sending_creates_one_payment_intent_with_amount_currency_and_metadata(
    shop: Shop,
) -> None:
    invoice = await shop.sent_invoice()
    await shop.drain()

    (intent,) = await shop.intents_for(invoice["id"])
    assert (intent["amount"], intent["currency"], intent["status"]) == (
        TOTAL,
        "eur",
        "requires_payment_method",
    )
    assert intent["metadata"] == {
        "invoice_id": invoice["id"],
        "business_id": str(shop.account.business_id),
        "invoice_number": invoice["number"],
    }
    events = await shop.events(invoice["id"])
    assert types(events) == ["created", "sent", "payment_requested"]
    assert events[-1]["data"] == {
        "provider": "stripe",
        "payment_intent_id": intent["id"],
        "amount_cents": TOTAL,
        "currency": "EUR",
        "livemode": False,
    }
    # A sandbox business uses the test key: the intent lives in test mode.
    assert (await shop.intent(intent["id"])).livemode is False
    # Through a StripeClient of its own: the SDK's global key was never set.
    assert stripe.api_key is None

    # More runs, and a restarted worker, find nothing more to do.
    await shop.drain()
    await shop.drain(worker_with(shop, shop.worker.gateway))
    assert len(await shop.intents_for(invoice["id"])) == 1
    assert (await shop.types(invoice["id"]))[-1] == "payment_requested"


async def test_a_crash_between_creating_and_recording_the_intent_creates_no_second_one(
    shop: Shop,
) -> None:
    class CrashingWorker(PaymentWorker):
        async def _record_request(self, *args: Any) -> None:
            raise SimulatedCrash

    invoice = await shop.sent_invoice()
    worker = shop.worker
    with pytest.raises(SimulatedCrash):
        await CrashingWorker(worker.pool, worker.app, worker.gateway).run_once()
    # The intent exists at Stripe; nothing about it was recorded.
    (first,) = await shop.intents_for(invoice["id"])
    assert await shop.types(invoice["id"]) == ["created", "sent"]

    # The restarted worker asks again, with the same idempotency key: the same intent.
    await shop.drain(worker_with(shop, worker.gateway))
    (again,) = await shop.intents_for(invoice["id"])
    assert again["id"] == first["id"]
    events = await shop.events(invoice["id"])
    assert types(events) == ["created", "sent", "payment_requested"]
    assert events[-1]["data"]["payment_intent_id"] == first["id"]


async def test_the_idempotency_key_is_derived_from_the_invoice_and_the_amount() -> None:
    invoice_id = uuid4()
    key = payment_intent_key(invoice_id, TOTAL)
    assert key == payment_intent_key(invoice_id, TOTAL)
    assert str(invoice_id) in key
    assert key != payment_intent_key(invoice_id, TOTAL - 1)
    assert key != payment_intent_key(uuid4(), TOTAL)


async def test_no_key_for_the_business_mode_means_no_payment_intent(shop: Shop) -> None:
    live = new_pay_account(shop.worker.app, shop.url, mode="live")
    invoice = await sent_invoice(shop.client, live)
    test_only = StripeGateway(stripe_settings(shop.stripe_api, live_secret_key=None))
    await shop.drain(worker_with(shop, test_only))
    assert await shop.intents_for(invoice["id"]) == []
    assert types(await events_of(shop.client, live, invoice["id"])) == ["created", "sent"]

    # Once the live key is configured, the invoice still due gets its PaymentIntent.
    await shop.drain()
    assert types(await events_of(shop.client, live, invoice["id"]))[-1] == "payment_requested"


async def test_a_stripe_outage_is_retried_later_and_records_nothing(shop: Shop) -> None:
    invoice = await shop.sent_invoice()
    # Nothing listens there: a connection error, as when Stripe is unreachable.
    down = StripeGateway(stripe_settings("http://127.0.0.1:9"), timeout_seconds=1)
    assert await worker_with(shop, down).run_once() >= 1
    pool = shop.worker.pool
    row = await pool.fetchrow(
        "SELECT attempts, next_attempt_at > now() AS later, last_error"
        " FROM payment_request_attempts WHERE invoice_id = $1",
        UUID(invoice["id"]),
    )
    assert row is not None
    assert (row["attempts"], row["later"]) == (1, True)  # backing off: not tried again at once
    assert "Stripe" in row["last_error"]
    assert await shop.types(invoice["id"]) == ["created", "sent"]
    assert await shop.intents_for(invoice["id"]) == []

    # Later (the backoff is made to pass here), with Stripe back: the intent is created.
    await pool.execute("UPDATE payment_request_attempts SET next_attempt_at = now()")
    await shop.drain()
    assert len(await shop.intents_for(invoice["id"])) == 1
    assert (await shop.types(invoice["id"]))[-1] == "payment_requested"


async def test_stripe_refusing_the_intent_records_payment_request_failed(shop: Shop) -> None:
    """0.30 EUR is below Stripe's minimum charge (0.50 EUR): Stripe refuses the request itself,
    so it is recorded once, and the invoice offers no card payment."""
    line = {"description": "Stamp", "quantity": 1, "unit_price_cents": 25, "tax_rate": 20}
    invoice = await shop.sent_invoice(lines=[line])
    assert invoice["total_cents"] == 30
    await shop.drain()

    events = await shop.events(invoice["id"])
    assert types(events) == ["created", "sent", "payment_request_failed"]
    assert events[-1]["data"]["provider"] == "stripe"
    assert "at least 50" in events[-1]["data"]["error"]
    assert await shop.intents_for(invoice["id"]) == []
    await shop.drain()
    assert len(await shop.events(invoice["id"])) == len(events)


# -- webhooks ---------------------------------------------------------------------------------


async def test_a_signed_payment_intent_succeeded_makes_the_invoice_paid(shop: Shop) -> None:
    invoice, intent_id = await shop.requested()
    payload = await shop.pay(intent_id)
    event_id = event_id_of(payload)

    response = await shop.deliver(payload)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": event_id,
        "type": "payment_intent.succeeded",
        "first_delivery": True,
    }
    (kept,) = shop.inbox(event_id)
    assert (kept["status"], kept["payment_intent_id"]) == ("received", intent_id)

    await shop.drain()
    assert await shop.state(invoice["id"]) == ("paid", TOTAL, 0)
    events = await shop.events(invoice["id"])
    assert types(events)[-2:] == ["payment_recorded", "paid"]
    recorded = events[-2]["data"]
    assert (recorded["amount_cents"], recorded["method"], recorded["reference"]) == (
        TOTAL,
        "card",
        intent_id,
    )
    (settled,) = shop.inbox(event_id)
    assert settled["status"] == "applied"
    assert (settled["business_id"], settled["invoice_id"]) == (
        shop.account.business_id,
        UUID(invoice["id"]),
    )


async def test_the_same_event_delivered_three_times_records_one_payment(shop: Shop) -> None:
    invoice, intent_id = await shop.requested()
    payload = await shop.pay(intent_id)

    # Stripe retries (a timeout on its side): before, between and after the worker's runs.
    first = await shop.deliver(payload)
    await shop.drain()
    second = await shop.deliver(payload)
    third = await shop.deliver(payload)
    await shop.drain()
    assert [r.status_code for r in (first, second, third)] == [200, 200, 200]
    assert [r.json()["first_delivery"] for r in (first, second, third)] == [True, False, False]

    (kept,) = shop.inbox(event_id_of(payload))
    assert (kept["deliveries"], kept["status"]) == (3, "applied")
    kinds = await shop.types(invoice["id"])
    assert (kinds.count("payment_recorded"), kinds.count("paid")) == (1, 1)

    # Another event about the same PaymentIntent (a new id, in any order): still one payment.
    other = msgspec.json.decode(payload)
    other["id"] = f"evt_{uuid4().hex[:14]}"
    other_payload = msgspec.json.encode(other)
    assert (await shop.deliver(other_payload)).status_code == 200
    await shop.drain()
    (also,) = shop.inbox(other["id"])
    assert also["status"] == "applied"
    assert "already recorded" in also["outcome"]
    assert (await shop.types(invoice["id"])).count("payment_recorded") == 1


async def test_the_same_event_delivered_five_times_at_once_is_kept_once(shop: Shop) -> None:
    invoice, intent_id = await shop.requested()
    payload = await shop.pay(intent_id)
    headers = {
        "Content-Type": "application/json",
        "Stripe-Signature": signed(payload, shop.webhook_secret),
    }
    answers = await concurrently(
        shop.client, [("POST", WEBHOOK, {"content": payload, "headers": headers})] * 5
    )
    assert [a.status_code for a in answers] == [200] * 5
    assert sorted(a.json()["first_delivery"] for a in answers) == [False] * 4 + [True]
    (kept,) = shop.inbox(event_id_of(payload))
    assert kept["deliveries"] == 5
    await shop.drain()
    assert await shop.state(invoice["id"]) == ("paid", TOTAL, 0)
    assert (await shop.types(invoice["id"])).count("payment_recorded") == 1


BAD_SIGNATURES = [
    "missing header",
    "wrong secret",
    "tampered body",
    "garbage header",
    "too old",
    "in the future",
    "timestamp not in digits",
    "not utf-8",
    "empty body",
]


@pytest.mark.parametrize("case", BAD_SIGNATURES)
async def test_a_bad_signature_answers_400_and_records_nothing(shop: Shop, case: str) -> None:
    invoice, intent_id = await shop.requested()
    payload = await shop.pay(intent_id)
    signature: str | None = signed(payload, shop.webhook_secret)
    if case == "missing header":
        signature = None
    elif case == "wrong secret":
        signature = signed(payload, "whsec_somebody_else")
    elif case == "tampered body":
        payload = payload.replace(b'"livemode":false', b'"livemode":true ')
    elif case == "garbage header":
        signature = "t=yesterday,v1=zz,v0"
    elif case == "too old":
        signature = signed(payload, shop.webhook_secret, timestamp=int(time.time()) - 3600)
    elif case == "in the future":
        signature = signed(payload, shop.webhook_secret, timestamp=int(time.time()) + 3600)
    elif case == "timestamp not in digits":
        # `t=+1700000000`: Python's int() reads it as the signed number (so did the check).
        stamp = str(int(time.time()))
        signature = signed(payload, shop.webhook_secret, int(stamp)).replace(stamp, "+" + stamp)
    elif case == "not utf-8":
        payload = b"\xff\xfe" + payload
    elif case == "empty body":
        payload = b""
    before = shop.counts()

    response = await shop.deliver(payload, signature)
    problem = assert_problem(response, 400)
    assert [e["field"] for e in problem["errors"]] == ["Stripe-Signature"]
    await shop.drain()
    assert shop.counts() == before
    assert (await shop.state(invoice["id"]))[0] == "sent"


async def test_a_signed_webhook_nested_too_deep_is_a_400_not_a_recursion(shop: Shop) -> None:
    before = shop.counts()
    for payload in (b"[" * 100_000 + b"]" * 100_000, b'{"id": "evt_deep", "data": ' + b"[" * 40):
        problem = assert_problem(await shop.deliver(payload), 400)
        assert "nested deeper than 32 levels" in problem["detail"]
        assert [e["field"] for e in problem["errors"]] == ["body"]
    assert shop.counts() == before


async def test_a_signature_a_few_seconds_ahead_is_still_accepted(shop: Shop) -> None:
    # Clocks differ a little: up to the tolerance (5 minutes) ahead is fine.
    invoice, intent_id = await shop.requested()
    payload = await shop.pay(intent_id)
    ahead = signed(payload, shop.webhook_secret, timestamp=int(time.time()) + 60)
    assert (await shop.deliver(payload, ahead)).status_code == 200
    await shop.drain()
    assert (await shop.state(invoice["id"]))[0] == "paid"


async def test_a_signed_body_that_is_not_a_stripe_event_is_refused(shop: Shop) -> None:
    before = shop.counts()
    for payload in (b"[]", b'{"id": "evt_1"}', b"not json", b'{"id": 1, "type": "x"}'):
        assert_problem(await shop.deliver(payload), 400)
    assert shop.counts() == before


async def test_a_payment_for_a_cancelled_invoice_is_kept_and_reported_not_applied(
    shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    invoice, intent_id = await shop.requested()
    await shop.cancel(invoice["id"])
    # The client had the page open and pays before the worker cancels the intent.
    payload = await shop.pay(intent_id)
    assert (await shop.deliver(payload)).status_code == 200
    await shop.drain()

    (kept,) = shop.inbox(event_id_of(payload))
    assert kept["status"] == "needs_attention"
    assert "cancelled" in kept["outcome"]
    assert (kept["invoice_id"], kept["business_id"]) == (
        UUID(invoice["id"]),
        shop.account.business_id,
    )
    # API.md "Cancel": a sent invoice is cancelled by a credit note of its total, so nothing
    # is due any more (this was TOTAL before credit notes existed).
    assert await shop.state(invoice["id"]) == ("cancelled", 0, 0)
    assert "payment_recorded" not in await shop.types(invoice["id"])
    # Reported: a warning naming the event, and the operators' listing.
    assert "stripe event needs attention" in capsys.readouterr().out
    attention = [row["event_id"] for row in shop.inbox() if row["status"] == "needs_attention"]
    assert kept["event_id"] in attention


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


def intent_paying(invoice: dict[str, Any], intent_id: str, business_id: UUID) -> dict[str, Any]:
    """The PaymentIntent object of a payment of the whole invoice."""
    return {
        "id": intent_id,
        "amount": TOTAL,
        "amount_received": TOTAL,
        "currency": "eur",
        "metadata": {"invoice_id": invoice["id"], "business_id": str(business_id)},
    }


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
    shop: Shop, case: str, reason: str
) -> None:
    invoice, intent_id = await shop.requested()
    intent = intent_paying(invoice, intent_id, shop.account.business_id)
    metadata = intent["metadata"]
    livemode = False
    if case == "unknown invoice":
        intent["metadata"] = {**metadata, "invoice_id": str(uuid4())}
    elif case == "another business":
        # Tenants are walls here too: an invoice is found only under its own business.
        other = new_pay_account(shop.worker.app, shop.url)
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
    assert (await shop.deliver(payload)).status_code == 200
    await shop.drain()

    (kept,) = shop.inbox(event_id_of(payload))
    assert kept["status"] == "needs_attention"
    assert reason in kept["outcome"]
    assert await shop.state(invoice["id"]) == ("sent", 0, TOTAL)


async def test_other_event_types_are_kept_as_ignored(shop: Shop) -> None:
    payload = event_for(
        {"id": "pi_unrelated", "amount": 100, "currency": "eur", "metadata": {}},
        event_type="payment_intent.payment_failed",
    )
    assert (await shop.deliver(payload)).status_code == 200
    await shop.drain()
    (kept,) = shop.inbox(event_id_of(payload))
    assert (kept["status"], kept["type"]) == ("ignored", "payment_intent.payment_failed")


async def test_a_partial_card_payment_leaves_the_rest_due(shop: Shop) -> None:
    invoice, intent_id = await shop.requested()
    intent = {
        **intent_paying(invoice, intent_id, shop.account.business_id),
        "amount_received": 5000,
    }
    assert (await shop.deliver(event_for(intent))).status_code == 200
    await shop.drain()
    assert await shop.state(invoice["id"]) == ("sent", 5000, TOTAL - 5000)


# -- the intent follows the invoice -----------------------------------------------------------


async def test_a_bank_payment_after_the_intent_makes_it_ask_for_the_rest(shop: Shop) -> None:
    invoice, intent_id = await shop.requested()
    await shop.record_payment(invoice["id"], 5000)
    await shop.drain()

    assert (await shop.intent(intent_id)).amount == TOTAL - 5000
    events = await shop.events(invoice["id"])
    assert types(events)[-2:] == ["payment_recorded", "payment_request_updated"]
    assert events[-1]["data"] == {"payment_intent_id": intent_id, "amount_cents": TOTAL - 5000}

    # The client pays the rest by card: the invoice is paid, to the cent.
    assert (await shop.deliver(await shop.pay(intent_id))).status_code == 200
    await shop.drain()
    assert await shop.state(invoice["id"]) == ("paid", TOTAL, 0)
    assert len(await shop.intents_for(invoice["id"])) == 1


async def test_a_rest_below_stripes_minimum_closes_the_request(shop: Shop) -> None:
    """A bank payment leaves 0.20 EUR due: Stripe refuses that amount, so the intent (still
    asking for the whole) is cancelled at Stripe, recorded as closed, and offered no more."""
    invoice, intent_id = await shop.requested()
    await shop.record_payment(invoice["id"], TOTAL - 20)
    await shop.drain()

    events = await shop.events(invoice["id"])
    assert types(events)[-1] == "payment_request_closed"
    reason = events[-1]["data"]["reason"]
    assert "update refused" in reason
    assert "cancelled at Stripe" in reason
    intent = await shop.intent(intent_id)
    assert (intent.amount, intent.status) == (TOTAL, "canceled")
    await shop.drain()
    assert len(await shop.events(invoice["id"])) == len(events)


@pytest.mark.parametrize("how", ["cancelled", "paid by bank transfer"])
async def test_an_invoice_that_asks_for_nothing_more_has_its_intent_cancelled(
    shop: Shop, how: str
) -> None:
    invoice, intent_id = await shop.requested()
    if how == "cancelled":
        await shop.cancel(invoice["id"])
    else:
        await shop.record_payment(invoice["id"], TOTAL)
    await shop.drain()

    assert (await shop.intent(intent_id)).status == "canceled"
    events = await shop.events(invoice["id"])
    assert types(events)[-1] == "payment_request_closed"
    assert events[-1]["data"]["payment_intent_id"] == intent_id
    assert "cancelled at Stripe" in events[-1]["data"]["reason"]
    # Done: more runs change nothing.
    await shop.drain()
    assert len(await shop.events(invoice["id"])) == len(events)


async def test_an_intent_paid_at_stripe_while_the_invoice_was_paid_by_hand_is_reported(
    shop: Shop,
) -> None:
    """The client pays by card while the business records a bank transfer for the whole
    amount: the intent cannot be cancelled any more, and the card payment, when its webhook
    arrives, is kept for an operator (a refund is due), never counted twice."""
    invoice, intent_id = await shop.requested()
    payload = await shop.pay(intent_id)
    await shop.record_payment(invoice["id"], TOTAL)
    await shop.drain()
    events = await shop.events(invoice["id"])
    assert types(events)[-1] == "payment_request_closed"
    assert "close refused" in events[-1]["data"]["reason"]

    assert (await shop.deliver(payload)).status_code == 200
    await shop.drain()
    (kept,) = shop.inbox(event_id_of(payload))
    assert kept["status"] == "needs_attention"
    assert "paid" in kept["outcome"]
    assert await shop.state(invoice["id"]) == ("paid", TOTAL, 0)
