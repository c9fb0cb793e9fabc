"""Helpers for the invoice tests (numbering, idempotency, validation, replay). No fixtures."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import httpx
import psycopg
from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from tests.conftest import Account
from tests.helpers import settle

INVOICES = "/api/v1/invoices"
CLIENTS = "/api/v1/clients"
BUSINESS = "/api/v1/business"
LINE: dict[str, Any] = {
    "description": "Consulting",
    "quantity": 1,
    "unit_price_cents": 10000,
    "tax_rate": 20,
}


def today_utc() -> date:
    return datetime.now(UTC).date()


# Units of EUR (the test businesses' accounting currency) for one unit of another currency:
# an invoice in another currency is issued with its rate (API.md, BT-111).
EXCHANGE_RATES = {"NOK": "0.085", "SEK": "0.087", "DKK": "0.134", "USD": "0.92", "GBP": "1.17"}


def invoice_body(client_id: str, **overrides: Any) -> dict[str, Any]:
    body = {"client_id": client_id, "currency": "EUR", "lines": [dict(LINE)], **overrides}
    if body["currency"] in EXCHANGE_RATES and "tax_exchange_rate" not in body:
        body["tax_exchange_rate"] = EXCHANGE_RATES[body["currency"]]
    return body


async def create_client(
    client: AsyncTestClient[Any], account: Account, name: str = "Client AS", **fields: Any
) -> dict[str, Any]:
    response = await client.post(CLIENTS, headers=account.headers, json={"name": name, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def create_invoice(
    client: AsyncTestClient[Any], account: Account, client_id: str, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        INVOICES, headers=account.headers, json=invoice_body(client_id, **overrides)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def get_json(client: AsyncTestClient[Any], account: Account, url: str) -> dict[str, Any]:
    response = await client.get(url, headers=account.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def invoice_event_count(database_url: str, invoice_id: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM invoicing_events WHERE originator_id = %s", (invoice_id,)
        ).fetchone()
    assert row is not None
    return int(row[0])


Request = tuple[str, str, dict[str, Any]]


async def concurrently(
    client: AsyncTestClient[Any], requests: list[Request]
) -> list[httpx.Response]:
    """Send the requests at the same time, really.

    `asyncio.gather` on the AsyncTestClient does NOT overlap requests: its transport hands each
    one to the app through a blocking portal call, which blocks the caller's event loop until
    the answer is complete. So the requests are run here inside the app's own loop (the
    portal's), through httpx's ASGI transport, where they interleave like on a real server;
    the caller's loop waits in a thread meanwhile.
    """

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return list(
                await asyncio.gather(
                    *(http.request(method, url, **kwargs) for method, url, kwargs in requests)
                )
            )

    return await asyncio.to_thread(client.blocking_portal.call, run)


def send_by_link(invoicing: Invoicing, account: Account, invoice_id: str) -> None:
    """Record `sent` as the send endpoint does. A mapping of channel to address: iterating it
    gives the channels, so this call fits both forms of `send_invoice` (channels, or
    recipients by channel)."""
    recipients: dict[str, str | None] = {"link": None}
    invoicing.send_invoice(account.business_id, UUID(invoice_id), recipients)


async def invoice_for(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
    *,
    locale: str = "en",
    send: bool = True,
    client_name: str = "Client AS",
    client_fields: dict[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    buyer = await create_client(client, account, client_name, locale=locale, **client_fields or {})
    invoice = await create_invoice(client, account, buyer["id"], **overrides)
    if send:
        send_by_link(invoicing, account, invoice["id"])
        settle(database_url)  # sent outside the API: wait for the read models to show it
    return invoice
