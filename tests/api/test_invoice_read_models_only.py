"""GET /api/v1/invoices/{id} answers from read models only (rm_invoices, rm_invoice_events);
GET /api/v1/invoices/{id}/events still reads the event store (API.md)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from tests.conftest import Account
from tests.invoicing_support import INVOICES, create_client, create_invoice, send_by_link

LINES: list[dict[str, Any]] = [
    {"description": "Design", "quantity": 2, "unit_price_cents": 15000, "tax_rate": 20},
    {"description": "Books", "quantity": 3.3333, "unit_price_cents": 1999, "tax_rate": 5.5},
]


@contextmanager
def event_store_locked(database_url: str) -> Iterator[None]:
    """Nobody may read invoicing_events meanwhile: ACCESS EXCLUSIVE conflicts with SELECT."""
    with psycopg.connect(database_url) as conn:
        conn.execute("LOCK TABLE invoicing_events IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            conn.rollback()


def exact(value: Any) -> str:
    """JSON text in the order it came (json keeps key order): equal texts, equal bytes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


async def delivery_recorded(client: AsyncTestClient[Any], account: Account, url: str) -> None:
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        listed = await client.get(f"{url}/events", headers=account.headers)
        if "delivered" in [e["type"] for e in listed.json()["data"]]:
            return
        assert asyncio.get_running_loop().time() < deadline, listed.text
        await asyncio.sleep(0.05)


async def test_get_invoice_reads_no_event_store_and_shows_the_events_endpoint_answer(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    buyer = await create_client(client, account, "Timeline Buyer", email="t@buyer.example")
    invoice = await create_invoice(client, account, buyer["id"], lines=LINES)
    send_by_link(invoicing, account, invoice["id"])
    url = f"{INVOICES}/{invoice['id']}"
    # The delivery worker records the link's delivery when it gets to it: wait for it, so
    # that no event lands between the two reads compared below.
    await delivery_recorded(client, account, url)
    # Through the API: read-your-writes covers the timeline read model too.
    cancelled = await client.post(
        f"{url}/cancel", json={"reason": "Issued twice"}, headers=account.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    listed = await client.get(f"{url}/events", headers=account.headers)
    assert listed.status_code == 200, listed.text
    events = listed.json()["data"]
    assert [e["type"] for e in events] == ["created", "sent", "delivered", "cancelled"]

    with event_store_locked(database_url):
        fetched = await asyncio.wait_for(client.get(url, headers=account.headers), 10)
    assert fetched.status_code == 200, fetched.text
    assert exact(fetched.json()["events"]) == exact(events)
    assert fetched.json()["status"] == "cancelled"
