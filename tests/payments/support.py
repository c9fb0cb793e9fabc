"""Helpers of the payment tests (no fixtures: those are in conftest.py)."""

from __future__ import annotations

import time
from typing import Any

from litestar.testing import AsyncTestClient

from fastfaktura.payments.worker import PaymentWorker
from tests.helpers import settle
from tests.invoicing_support import INVOICES, create_client, create_invoice, get_json
from tests.payments.conftest import PayAccount

TOTAL = 12000  # one line of 100.00 at 20 % VAT


async def sent_invoice(
    client: AsyncTestClient[Any], account: PayAccount, locale: str = "en"
) -> dict[str, Any]:
    """A client's invoice, created and sent (the link only) through the API."""
    customer = await create_client(client, account, "Acme SA", locale=locale)  # type: ignore[arg-type]
    invoice = await create_invoice(client, account, customer["id"])  # type: ignore[arg-type]
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
