"""GET /api/v1/events: the business's events from the event store, oldest first, paged by an
opaque cursor that never skips or repeats an event, also under concurrent writers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import psycopg
from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from fastfaktura.readmodels.feed import FEED_TOPICS
from tests.conftest import Account, StoreProbe
from tests.helpers import assert_rejected
from tests.invoicing_support import create_client, create_invoice, get_json

EVENTS = "/api/v1/events"


async def all_events(
    client: AsyncTestClient[Any], account: Account, limit: int = 100
) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if after is not None:
            params["after"] = after
        response = await client.get(EVENTS, headers=account.headers, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        seen.extend(page["data"])
        if not page["data"]:
            assert page["next_cursor"] == after
            return seen
        after = page["next_cursor"]


def store_event_count(database_url: str, business_id: Any) -> int:
    """What the store holds for the business, counted without the feed's index."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM invoicing_events e WHERE e.topic = ANY(%s) AND e.originator_id"
            " IN (SELECT originator_id FROM invoicing_events WHERE originator_version = 1"
            "     AND (originator_id = %s OR convert_from(state, 'UTF8')::jsonb"
            "          #>> '{business_id,_data_}' = %s))",
            (list(FEED_TOPICS), business_id, business_id.hex),
        ).fetchone()
    assert row is not None
    return int(row[0])


async def test_the_feed_lists_the_business_events_oldest_first(
    client: AsyncTestClient[Any], new_account: Callable[..., Account], database_url: str
) -> None:
    account, other = new_account("Feed AS"), new_account("Other AS")
    buyer = await create_client(client, account, "Buyer SARL")
    invoice = await create_invoice(client, account, buyer["id"])
    paid = await client.post(
        f"/api/v1/invoices/{invoice['id']}/send",
        headers=account.headers,
        json={"channels": ["link"]},
    )
    assert paid.status_code == 200, paid.text
    await create_client(client, other, "Not yours")

    events = await all_events(client, account, limit=2)

    types = [e["type"] for e in events]
    assert types[0] == "business.created"
    assert types[1:4] == ["client.created", "invoice.created", "invoice.sent"]
    assert {e["object"] for e in events} == {"business", "client", "invoice"}
    first = events[0]
    assert first["object_id"] == str(account.business_id)
    assert set(first) == {"id", "type", "object", "object_id", "occurred_at", "data"}
    created = events[2]
    assert created["object_id"] == invoice["id"]
    assert created["data"]["number"] == invoice["number"]
    # The same ids as the invoice's own timeline.
    timeline = await get_json(client, account, f"/api/v1/invoices/{invoice['id']}/events")
    assert [e["id"] for e in events if e["object_id"] == invoice["id"]] == [
        e["id"] for e in timeline["data"]
    ]
    assert len(events) == store_event_count(database_url, account.business_id)
    # The other business's client is not in this feed, and its own feed has none of ours.
    theirs = await all_events(client, other)
    assert [e["type"] for e in theirs] == ["business.created", "client.created"]
    assert not {e["id"] for e in theirs} & {e["id"] for e in events}


async def test_the_cursor_stays_put_when_nothing_is_new_then_picks_up_what_comes(
    client: AsyncTestClient[Any], account: Account
) -> None:
    first = (await client.get(EVENTS, headers=account.headers)).json()
    assert [e["type"] for e in first["data"]] == ["business.created"]
    cursor = first["next_cursor"]
    again = (await client.get(EVENTS, headers=account.headers, params={"after": cursor})).json()
    assert again == {"data": [], "next_cursor": cursor}
    await create_client(client, account, "Later Ltd")
    later = (await client.get(EVENTS, headers=account.headers, params={"after": cursor})).json()
    assert [e["type"] for e in later["data"]] == ["client.created"]
    assert later["next_cursor"] != cursor


async def test_bad_cursor_and_limit_are_422_naming_them(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    for params, field in [
        ({"after": "not-a-cursor"}, "after"),
        ({"after": "ZXYxOjAx"}, "after"),  # "ev1:01": a second spelling of position 1
        ({"after": "x" * 65}, "after"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"page": "2"}, "page"),
    ]:
        await assert_rejected(
            client,
            store,
            "GET",
            EVENTS,
            status=422,
            fields=[field],
            headers=account.headers,
            params=params,
        )
    unauthenticated = await client.get(EVENTS)
    assert unauthenticated.status_code == 401


async def test_twenty_concurrent_writers_and_a_paging_reader_see_every_event_once(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
) -> None:
    writers, writes_each = 20, 8
    done = threading.Event()

    def write(n: int) -> None:
        for i in range(writes_each):
            written = invoicing.register_client(account.business_id, {"name": f"W{n}-{i}"})
            invoicing.change_client(account.business_id, written.value.id, {"tags": ["x"]})

    during_writes = 0

    async def read_while_writing() -> list[dict[str, Any]]:
        nonlocal during_writes
        seen: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            finished = done.is_set()  # read before the page: a last page after the end
            params: dict[str, Any] = {"limit": 7}
            if after is not None:
                params["after"] = after
            page = (await client.get(EVENTS, headers=account.headers, params=params)).json()
            seen.extend(page["data"])
            during_writes += 0 if finished else len(page["data"])
            after = page["next_cursor"]
            if finished and not page["data"]:
                return seen
            await asyncio.sleep(0)

    async def writing() -> None:
        await asyncio.gather(*(asyncio.to_thread(write, n) for n in range(writers)))
        done.set()

    seen, _ = await asyncio.gather(read_while_writing(), writing())

    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids)), "an event was returned twice"
    assert len(ids) == 1 + writers * writes_each * 2
    assert len(ids) == store_event_count(database_url, account.business_id)
    assert during_writes, "the reader never saw an event while the writers ran"
