"""Helpers of the payment tests (no fixtures: those are in conftest.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import msgspec
import psycopg
import stripe
from litestar.testing import AsyncTestClient
from psycopg.rows import dict_row

from fastfaktura.policies.payments import PaymentWorker
from tests.helpers import settle
from tests.invoicing_support import INVOICES, create_client, create_invoice, get_json

TOTAL = 12000  # one line of 100.00 at 20 % VAT


@dataclass(frozen=True)
class PayAccount:
    business_id: UUID
    headers: dict[str, str]


async def sent_invoice(
    client: AsyncTestClient[Any], account: PayAccount, locale: str = "en", **overrides: Any
) -> dict[str, Any]:
    """A client's invoice (`overrides`: its body's fields), created and sent (the link only)
    through the API."""
    customer = await create_client(client, account, "Acme SA", locale=locale)  # type: ignore[arg-type]
    invoice = await create_invoice(client, account, customer["id"], **overrides)  # type: ignore[arg-type]
    response = await client.post(
        f"{INVOICES}/{invoice['id']}/send", headers=account.headers, json={"channels": ["link"]}
    )
    assert response.status_code == 200, response.text
    return invoice


async def drain(worker: PaymentWorker, url: str) -> None:
    """Run the worker until it finds nothing to do; then let the read models catch up (no
    delivery worker runs here: sandbox deliveries stay pending)."""
    deadline = time.monotonic() + 15
    while await worker.run_once():
        assert time.monotonic() < deadline, "the payments worker keeps finding work"
    settle(url, deliveries=False)


async def events_of(
    client: AsyncTestClient[Any], account: PayAccount, invoice_id: str
) -> list[dict[str, Any]]:
    body = await get_json(client, account, f"{INVOICES}/{invoice_id}/events")  # type: ignore[arg-type]
    return list(body["data"])


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


async def intent_id_of(client: AsyncTestClient[Any], account: PayAccount, invoice_id: str) -> str:
    """The PaymentIntent recorded for the invoice (its one `payment_requested`)."""
    events = await events_of(client, account, invoice_id)
    (requested,) = [e for e in events if e["type"] == "payment_requested"]
    intent_id: str = requested["data"]["payment_intent_id"]
    return intent_id


async def record_payment(
    client: AsyncTestClient[Any], account: PayAccount, invoice_id: str, amount_cents: int
) -> None:
    """A bank transfer, recorded through the API."""
    response = await client.post(
        f"{INVOICES}/{invoice_id}/payments",
        headers=account.headers,
        json={"amount_cents": amount_cents, "method": "bank_transfer"},
    )
    assert response.status_code == 201, response.text


WEBHOOK = "/api/v1/webhooks/stripe"


class Signed:
    """`Shop.deliver`'s default: sign the body with the endpoint's secret."""


SIGNED = Signed()
TEST_CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}


def signed(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe computes (t=..., v1=HMAC-SHA256)."""
    return stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, timestamp=timestamp
    )


@dataclass
class Shop:
    """One sandbox business on the API-only app, its payments worker, and the Stripe account
    (localstripe) seen through the SDK: what every payment test does, in one place."""

    client: AsyncTestClient[Any]
    account: PayAccount
    url: str
    worker: PaymentWorker
    stripe_api: str
    stripe: stripe.StripeClient
    secret_key: str
    webhook_secret: str

    async def sent_invoice(self, **overrides: Any) -> dict[str, Any]:
        return await sent_invoice(self.client, self.account, **overrides)

    async def drain(self, worker: PaymentWorker | None = None) -> None:
        await drain(worker or self.worker, self.url)

    async def requested(self) -> tuple[dict[str, Any], str]:
        """A sent invoice with its PaymentIntent created and recorded."""
        invoice = await self.sent_invoice()
        await self.drain()
        return invoice, await intent_id_of(self.client, self.account, invoice["id"])

    async def events(self, invoice_id: str) -> list[dict[str, Any]]:
        return await events_of(self.client, self.account, invoice_id)

    async def types(self, invoice_id: str) -> list[str]:
        return types(await self.events(invoice_id))

    async def state(self, invoice_id: str) -> tuple[str, int, int]:
        """(status, amount paid, amount due), as the API shows the invoice."""
        body = await get_json(self.client, self.account, f"{INVOICES}/{invoice_id}")  # type: ignore[arg-type]
        return body["status"], body["amount_paid_cents"], body["amount_due_cents"]

    async def record_payment(self, invoice_id: str, amount_cents: int) -> None:
        await record_payment(self.client, self.account, invoice_id, amount_cents)

    async def cancel(self, invoice_id: str) -> None:
        response = await self.client.post(
            f"{INVOICES}/{invoice_id}/cancel", headers=self.account.headers, json={}
        )
        assert response.status_code == 200, response.text

    async def _stripe_list(self, path: str, **params: Any) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.stripe_api) as http:
            response = await http.get(
                path,
                params={"limit": 100, **params},
                headers={"Authorization": f"Bearer {self.secret_key}"},
            )
        response.raise_for_status()
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    async def intents_for(self, invoice_id: str) -> list[dict[str, Any]]:
        """Every PaymentIntent in the Stripe account whose metadata names this invoice."""
        intents = await self._stripe_list("/v1/payment_intents")
        return [pi for pi in intents if pi["metadata"].get("invoice_id") == invoice_id]

    async def refunds_for(self, intent_id: str) -> list[dict[str, Any]]:
        """Every refund in the Stripe account of this PaymentIntent's payment."""
        return await self._stripe_list("/v1/refunds", payment_intent=intent_id)

    async def paid_by_card(self, intent_id: str) -> None:
        """The client pays the intent; Stripe's webhook arrives; the worker records it."""
        response = await self.deliver(await self.pay(intent_id))
        assert response.status_code == 200, response.text
        await self.drain()

    async def intent(self, intent_id: str) -> Any:
        return await self.stripe.v1.payment_intents.retrieve_async(intent_id)

    async def pay(self, intent_id: str) -> bytes:
        """The client pays by card (the test card): Stripe confirms the intent and emits
        `payment_intent.succeeded`, returned as Stripe's server serialises it."""
        method = await self.stripe.v1.payment_methods.create_async(
            {"type": "card", "card": TEST_CARD}
        )
        await self.stripe.v1.payment_intents.update_async(intent_id, {"payment_method": method.id})
        confirmed = await self.stripe.v1.payment_intents.confirm_async(intent_id)
        assert confirmed.status == "succeeded"
        events = await self._stripe_list("/v1/events", type="payment_intent.succeeded")
        (event,) = [e for e in events if e["data"]["object"]["id"] == intent_id]
        return msgspec.json.encode(event)

    async def deliver(
        self, payload: bytes, signature: str | Signed | None = SIGNED
    ) -> httpx.Response:
        """POST the webhook, signed with the endpoint's secret unless told otherwise (None:
        no Stripe-Signature header at all)."""
        if isinstance(signature, Signed):
            signature = signed(payload, self.webhook_secret)
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["Stripe-Signature"] = signature
        return await self.client.post(WEBHOOK, content=payload, headers=headers)

    def inbox(self, event_id: str | None = None) -> list[dict[str, Any]]:
        with psycopg.connect(self.url) as conn, conn.cursor(row_factory=dict_row) as cur:
            if event_id is None:
                cur.execute("SELECT * FROM stripe_inbox ORDER BY received_at")
            else:
                cur.execute("SELECT * FROM stripe_inbox WHERE event_id = %s", (event_id,))
            return list(cur.fetchall())

    def counts(self) -> tuple[int, int]:
        """(events in the store, rows in the inbox)."""
        with psycopg.connect(self.url) as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM invoicing_events),"
                " (SELECT count(*) FROM stripe_inbox)"
            ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])
