"""The webhook worker against a real HTTP receiver on 127.0.0.1: signatures, order per
object, the filter, retries (500, timeout), a crash between send and record, redirects,
the SSRF guard at delivery time, a slow endpoint beside a fast one, disabling and retry."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from uuid import UUID

import asyncpg
from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from tests.conftest import Account
from tests.integrations.conftest import Workers
from tests.integrations.receiver import Receiver, after, hold, status, verify, wait_for
from tests.integrations.support import ENDPOINTS, fixed_resolver
from tests.invoicing_support import create_client, create_invoice, send_by_link

Client = AsyncTestClient[Any]


async def endpoint(client: Client, account: Account, url: str, events: list[str]) -> dict[str, Any]:
    response = await client.post(
        ENDPOINTS, headers=account.headers, json={"url": url, "events": events}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def paid_invoice(
    client: Client, account: Account, invoicing: Invoicing, buyer: dict[str, Any]
) -> dict[str, Any]:
    invoice = await create_invoice(client, account, buyer["id"])
    await asyncio.to_thread(send_by_link, invoicing, account, invoice["id"])
    response = await client.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        headers=account.headers,
        json={"amount_cents": invoice["total_cents"], "method": "bank_transfer"},
    )
    assert response.status_code in (200, 201), response.text
    return invoice


async def feed(client: Client, account: Account) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/events", headers=account.headers, params={"limit": 500})
    events: list[dict[str, Any]] = response.json()["data"]
    return events


async def attempts(client: Client, account: Account, endpoint_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"{ENDPOINTS}/{endpoint_id}/deliveries", headers=account.headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found


async def test_deliveries_are_signed_in_order_per_invoice_and_show_the_object(
    hook_client: Client,
    hook_invoicing: Invoicing,
    new_hook_account: Callable[..., Account],
    receiver: Receiver,
    workers: Workers,
) -> None:
    account = new_hook_account()
    hook = await endpoint(hook_client, account, receiver.url("/all"), ["*"])
    workers.start()
    buyer = await create_client(hook_client, account, "Buyer SARL")
    invoices = [await paid_invoice(hook_client, account, hook_invoicing, buyer) for _ in range(3)]
    changed = await hook_client.put(
        "/api/v1/business", headers=account.headers, json={"email": "billing@hooked.example"}
    )
    assert changed.status_code == 200, changed.text
    recorded = [e for e in await feed(hook_client, account) if e["type"] != "business.created"]

    await wait_for(lambda: len(receiver.first("/all")) == len(recorded))

    for received in receiver.at("/all"):
        verify(hook["secret"], received)
        assert received.headers["content-type"] == "application/json"
    got = receiver.first("/all")
    assert {r.webhook_id for r in got} == {e["id"] for e in recorded}
    for invoice in invoices:
        expected = [e["id"] for e in recorded if e["object_id"] == invoice["id"]]
        assert [r.webhook_id for r in got if r.json["data"].get("id") == invoice["id"]] == expected
    by_id = {r.webhook_id: r.json for r in got}
    paid = [by_id[e["id"]] for e in recorded if e["type"] == "invoice.paid"]
    assert len(paid) == 3
    shown = (
        await hook_client.get(f"/api/v1/invoices/{invoices[0]['id']}", headers=account.headers)
    ).json()
    first = next(p for p in paid if p["data"]["id"] == invoices[0]["id"])
    assert first["type"] == "invoice.paid"
    assert set(first) == {"type", "timestamp", "data"}
    assert first["data"] == {k: v for k, v in shown.items() if k != "events"}
    created = by_id[next(e["id"] for e in recorded if e["type"] == "client.created")]
    assert created["data"]["name"] == "Buyer SARL"
    assert "business_id" not in created["data"]
    client_shown = await hook_client.get(f"/api/v1/clients/{buyer['id']}", headers=account.headers)
    assert created["data"] == client_shown.json()
    profile = by_id[next(e["id"] for e in recorded if e["type"] == "business.profile_changed")]
    assert profile["data"] == changed.json()


async def test_exactly_the_filtered_events_are_delivered(
    hook_client: Client,
    hook_invoicing: Invoicing,
    new_hook_account: Callable[..., Account],
    receiver: Receiver,
    workers: Workers,
) -> None:
    account = new_hook_account()
    await endpoint(hook_client, account, receiver.url("/paid"), ["invoice.paid"])
    await endpoint(
        hook_client, account, receiver.url("/clients"), ["client.created", "invoice.sent"]
    )
    worker, _ = workers.start()
    buyer = await create_client(hook_client, account, "Buyer")
    await paid_invoice(hook_client, account, hook_invoicing, buyer)
    await paid_invoice(hook_client, account, hook_invoicing, buyer)
    recorded = await feed(hook_client, account)

    def ids(*types: str) -> list[str]:
        return [e["id"] for e in recorded if e["type"] in types]

    await wait_for(
        lambda: len(receiver.first("/paid")) == 2 and len(receiver.first("/clients")) == 3
    )
    passes = worker.idle_passes
    await wait_for(lambda: worker.idle_passes > passes)  # looked again: nothing more to send
    # Two invoices: two objects, whose deliveries are ordered each on its own, not together.
    assert sorted(r.webhook_id for r in receiver.first("/paid")) == sorted(ids("invoice.paid"))
    assert {r.webhook_id for r in receiver.at("/paid")} == set(ids("invoice.paid"))
    # In order per object only: the client's and the invoices' events may interleave.
    assert sorted(r.json["type"] for r in receiver.first("/clients")) == [
        "client.created",
        "invoice.sent",
        "invoice.sent",
    ]
    assert {r.webhook_id for r in receiver.at("/clients")} == set(
        ids("client.created", "invoice.sent")
    )


async def test_a_500_and_a_timeout_are_retried_with_the_same_webhook_id(
    hook_client: Client,
    new_hook_account: Callable[..., Account],
    receiver: Receiver,
    workers: Workers,
) -> None:
    account = new_hook_account()
    receiver.plans["/flaky"] = [status(500), after(8.0), status(204)]
    hook = await endpoint(hook_client, account, receiver.url("/flaky"), ["client.created"])
    workers.start()
    await create_client(hook_client, account, "Once")

    await wait_for(lambda: len(receiver.at("/flaky")) == 3)
    assert len({r.webhook_id for r in receiver.at("/flaky")}) == 1
    log = await wait_for_attempts(hook_client, account, hook["id"], 3)
    newest_first = [(a["attempt"], a["status_code"], a["error"]) for a in log]
    assert newest_first == [
        (3, 204, None),
        (2, None, "timed out after 3 s"),
        (1, 500, "HTTP 500"),
    ]
    assert all(a["type"] == "client.created" and a["event_id"] == log[0]["event_id"] for a in log)
    assert log[0]["event_id"] == receiver.at("/flaky")[0].webhook_id


async def test_a_crash_between_send_and_record_redelivers_with_the_same_webhook_id(
    hook_client: Client,
    hook_pool: asyncpg.Pool,
    new_hook_account: Callable[..., Account],
    receiver: Receiver,
    workers: Workers,
) -> None:
    account = new_hook_account()
    never = asyncio.Event()
    receiver.plans["/crash"] = [hold(never), status(200)]
    hook = await endpoint(hook_client, account, receiver.url("/crash"), ["client.created"])
    _, first_worker = workers.start()
    await create_client(hook_client, account, "Crash Test")
    await wait_for(lambda: len(receiver.at("/crash")) == 1)

    first_worker.cancel()  # the receiver has the message; the worker dies before recording it
    await asyncio.gather(first_worker, return_exceptions=True)
    assert await attempts(hook_client, account, hook["id"]) == []

    workers.start()  # the restart
    await wait_for(lambda: len(receiver.at("/crash")) == 2)
    first, second = receiver.at("/crash")
    assert first.webhook_id == second.webhook_id
    assert first.body == second.body
    verify(hook["secret"], second)
    await wait_for_attempts(hook_client, account, hook["id"], 1)
    status_row = await hook_pool.fetchval(
        "SELECT status FROM webhook_deliveries WHERE endpoint_id = $1", UUID(hook["id"])
    )
    assert status_row == "delivered"
    never.set()


async def wait_for_attempts(
    client: Client, account: Account, endpoint_id: str, count: int
) -> list[dict[str, Any]]:
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        found = await attempts(client, account, endpoint_id)
        if len(found) >= count:
            return found
        assert asyncio.get_running_loop().time() < deadline, found
        await asyncio.sleep(0.05)


async def test_a_redirect_is_not_followed(
    hook_client: Client,
    new_hook_account: Callable[..., Account],
    receiver: Receiver,
    workers: Workers,
) -> None:
    account = new_hook_account()
    receiver.plans["/moved"] = [status(307, Location=receiver.url("/elsewhere")), status(200)]
    hook = await endpoint(hook_client, account, receiver.url("/moved"), ["client.created"])
    workers.start()
    await create_client(hook_client, account, "Redirected")
    log = await wait_for_attempts(hook_client, account, hook["id"], 2)
    assert [(a["status_code"], a["error"]) for a in log][-1] == (
        307,
        f"redirect not followed (to {receiver.url('/elsewhere')})",
    )
    assert log[0]["status_code"] == 200
    assert receiver.at("/elsewhere") == []


async def test_live_endpoints_are_checked_again_after_dns_at_delivery(
    hook_client: Client,
    hook_pool: asyncpg.Pool,
    new_hook_account: Callable[..., Account],
    receiver: Receiver,
    workers: Workers,
) -> None:
    """Registered while their names resolved to a public address; by delivery time they
    resolve to loopback, a private network, the metadata address: nothing is sent."""
    live = new_hook_account("Live AS", mode="live")
    hook_client.app.state.webhook_resolver = fixed_resolver(
        {f"{n}.example.com": ["93.184.216.34"] for n in ("loop", "ten", "meta")}
    )
    try:
        hooks = {
            name: await endpoint(
                hook_client,
                live,
                f"https://{name}.example.com:{receiver.port}/x",
                ["client.created"],
            )
            for name in ("loop", "ten", "meta")
        }
    finally:
        hook_client.app.state.webhook_resolver = None
    # One registered before the rules (stored directly): `localhost`, through the real DNS.
    real = await hook_pool.fetchval(
        "INSERT INTO webhook_endpoints (id, business_id, url, events, secret, starts_after)"
        " VALUES (gen_random_uuid(), $1, $2, '{client.created}', $3,"
        " (SELECT max(notification_id) FROM invoicing_events)) RETURNING id",
        live.business_id,
        f"https://localhost:{receiver.port}/x",
        "whsec_" + "A" * 32,
    )
    rebound = fixed_resolver(
        {
            "loop.example.com": ["127.0.0.1"],
            "ten.example.com": ["10.0.0.5"],
            "meta.example.com": ["169.254.169.254"],
            "localhost": ["127.0.0.1"],
        }
    )
    dns_workers = Workers(hook_pool, workers.invoicing)
    dns_workers.tasks = workers.tasks  # stopped with the others
    dns_workers.start(rebound)
    await create_client(hook_client, live, "Anyone")

    reasons = {}
    for name, hook in hooks.items():
        log = await wait_for_attempts(hook_client, live, hook["id"], 1)
        assert log[0]["status_code"] is None
        reasons[name] = log[0]["error"]
    assert "127.0.0.1 is a loopback address" in reasons["loop"]
    assert "10.0.0.5 is a private" in reasons["ten"]
    assert "169.254.169.254 is a link-local address" in reasons["meta"]
    await workers.stop()
    workers.start()  # the real resolver, for `localhost`
    log = await wait_for_attempts(hook_client, live, str(real), 1)
    assert "is a loopback address" in log[0]["error"]
    assert receiver.received == []


async def test_a_slow_endpoint_holds_back_only_itself(
    hook_client: Client,
    hook_invoicing: Invoicing,
    new_hook_account: Callable[..., Account],
    receiver: Receiver,
    workers: Workers,
) -> None:
    account = new_hook_account()
    receiver.plans["/slow"] = [after(0.3)]
    await endpoint(hook_client, account, receiver.url("/slow"), ["*"])
    await endpoint(hook_client, account, receiver.url("/fast"), ["*"])
    buyer = await create_client(hook_client, account, "Buyer")
    for _ in range(4):
        await paid_invoice(hook_client, account, hook_invoicing, buyer)
    expected = len(await feed(hook_client, account)) - 1  # all but business.created
    workers.start()  # the backlog waits for it

    await wait_for(lambda: len(receiver.first("/fast")) == expected)
    assert len(receiver.first("/slow")) < expected / 2  # still far behind
    await wait_for(lambda: len(receiver.first("/slow")) == expected, timeout=60)
    assert receiver.most_in_flight["/slow"] == 2  # concurrency_per_endpoint, never more


async def test_an_endpoint_failing_past_the_window_is_disabled_and_a_retry_enables_it(
    hook_client: Client,
    hook_pool: asyncpg.Pool,
    new_hook_account: Callable[..., Account],
    receiver: Receiver,
    workers: Workers,
) -> None:
    account = new_hook_account()
    receiver.plans["/down"] = [status(503)]
    hook = await endpoint(hook_client, account, receiver.url("/down"), ["client.created"])
    workers.start(give_up_seconds=0.4)
    await create_client(hook_client, account, "Unlucky")

    async def shown() -> dict[str, Any]:
        found: dict[str, Any] = (
            await hook_client.get(f"{ENDPOINTS}/{hook['id']}", headers=account.headers)
        ).json()
        return found

    deadline = asyncio.get_running_loop().time() + 10
    while (state := await shown())["status"] != "disabled":
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)
    assert state["disabled_at"] is not None
    assert state["disabled_reason"] == "every delivery failed for 0.4 s"
    tried = len(receiver.at("/down"))
    assert tried >= 3  # retried with backoff before giving up
    delivery = await hook_pool.fetchrow(
        "SELECT status, event_id FROM webhook_deliveries WHERE endpoint_id = $1", UUID(hook["id"])
    )
    assert delivery["status"] == "failed"
    await asyncio.sleep(0.3)
    assert len(receiver.at("/down")) == tried  # given up: nothing more
    # Disabling is a fact of the business's history: once in its event feed.
    facts = [
        e for e in await feed(hook_client, account) if e["object_id"] == str(account.business_id)
    ]
    disabled = [e for e in facts if e["type"] == "business.webhook_endpoint_disabled"]
    assert len(disabled) == 1, facts
    assert disabled[0]["data"]["endpoint_id"] == hook["id"]
    assert disabled[0]["data"]["reason"] == "every delivery failed for 0.4 s"

    receiver.plans["/down"] = [status(200)]
    retried = await hook_client.post(
        f"{ENDPOINTS}/{hook['id']}/deliveries/{delivery['event_id']}/retry", headers=account.headers
    )
    assert retried.status_code == 202
    assert retried.json() == {
        "endpoint_id": hook["id"],
        "event_id": str(delivery["event_id"]),
        "status": "pending",
    }
    await wait_for(lambda: len(receiver.at("/down")) == tried + 1)
    assert (await shown())["status"] == "enabled"
    log = await wait_for_attempts(hook_client, account, hook["id"], tried + 1)
    assert log[0]["status_code"] == 200


async def test_a_deleted_endpoint_gets_nothing_more_and_keeps_its_log(
    hook_client: Client,
    hook_pool: asyncpg.Pool,
    new_hook_account: Callable[..., Account],
    receiver: Receiver,
    workers: Workers,
) -> None:
    account = new_hook_account()
    receiver.plans["/gone"] = [status(500)]
    hook = await endpoint(hook_client, account, receiver.url("/gone"), ["client.created"])
    worker, _ = workers.start(retry_base_seconds=0.3, retry_max_seconds=0.3)
    await create_client(hook_client, account, "Soon gone")
    await wait_for_attempts(hook_client, account, hook["id"], 1)

    deleted = await hook_client.delete(f"{ENDPOINTS}/{hook['id']}", headers=account.headers)
    assert deleted.status_code == 200
    tried = len(receiver.at("/gone"))
    await asyncio.sleep(0.6)  # two retry intervals
    passes = worker.idle_passes
    await wait_for(lambda: worker.idle_passes > passes)
    assert len(receiver.at("/gone")) == tried
    log = await attempts(hook_client, account, hook["id"])
    assert len(log) == tried
    assert log[-1]["status_code"] == 500
    queued = await hook_pool.fetchval(
        "SELECT status FROM webhook_deliveries WHERE endpoint_id = $1", UUID(hook["id"])
    )
    assert queued == "cancelled"


async def test_a_credit_note_is_delivered_as_the_api_shows_it(
    hook_client: Client,
    hook_invoicing: Invoicing,
    new_hook_account: Callable[..., Account],
    receiver: Receiver,
    workers: Workers,
) -> None:
    account = new_hook_account()
    await endpoint(hook_client, account, receiver.url("/credit"), ["credit_note.issued"])
    workers.start()
    buyer = await create_client(hook_client, account, "Buyer")
    invoice = await create_invoice(hook_client, account, buyer["id"])
    await asyncio.to_thread(send_by_link, hook_invoicing, account, invoice["id"])
    issued = await hook_client.post(
        f"/api/v1/invoices/{invoice['id']}/credit_notes",
        headers=account.headers,
        json={"reason": "Returned goods"},
    )
    assert issued.status_code == 201, issued.text

    await wait_for(lambda: len(receiver.first("/credit")) == 1)
    delivered = receiver.first("/credit")[0].json
    assert delivered["type"] == "credit_note.issued"
    shown = await hook_client.get(
        f"/api/v1/credit_notes/{issued.json()['id']}", headers=account.headers
    )
    assert delivered["data"] == shown.json()


async def test_appends_within_the_fan_out_window_wake_one_pass_that_sends_them_all(
    hook_client: Client,
    hook_invoicing: Invoicing,
    new_hook_account: Callable[..., Account],
    receiver: Receiver,
    workers: Workers,
) -> None:
    """Each append NOTIFYs the store's channel. Within a window (`fan_out_delay_seconds`) the
    NOTIFYs schedule one wake-up, at the window's end, not one each (issue 12: a pass per
    append ran on the API's event loop while the write waited for its read models); the pass
    queues every event of the window. (Counting passes instead would count those that other
    endpoints' due retries in this shared database start too.)"""
    account = new_hook_account()
    await endpoint(hook_client, account, receiver.url("/window"), ["client.created"])
    worker, _ = workers.start(fan_out_delay_seconds=0.5, poll_seconds=60.0)
    await wait_for(lambda: worker.idle_passes > 0)  # the backlog fanned out; asleep now

    # Five NOTIFYs as the listener hands them over: one wake-up scheduled, the first's.
    worker._notified()
    window = worker._store_wake
    assert window is not None
    for _ in range(4):
        worker._notified()
        assert worker._store_wake is window
    await wait_for(lambda: worker._store_wake is None)  # the window ended: its one wake-up

    names = [f"Windowed {n}" for n in range(5)]
    await asyncio.to_thread(
        lambda: [hook_invoicing.register_client(account.business_id, {"name": n}) for n in names]
    )
    await wait_for(lambda: len(receiver.first("/window")) == len(names))
    assert sorted(r.json["data"]["name"] for r in receiver.first("/window")) == names
