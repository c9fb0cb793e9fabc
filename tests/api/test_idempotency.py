"""Idempotency-Key on POST /invoices and POST /clients (API.md, Idempotency)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import Account, StoreProbe
from tests.helpers import assert_problem, assert_rejected, problem_fields, settle
from tests.invoicing_support import (
    CLIENTS,
    INVOICES,
    concurrently,
    create_client,
    create_invoice,
    get_json,
    invoice_body,
)

REPLAYED = "Idempotent-Replayed"


def keyed(account: Account, key: str) -> dict[str, str]:
    return {**account.headers, "Idempotency-Key": key}


def assert_same_answer(first: httpx.Response, second: httpx.Response) -> None:
    assert second.status_code == first.status_code
    assert second.content == first.content  # byte-identical JSON
    assert second.headers["content-type"] == first.headers["content-type"]
    assert second.headers.get("location") == first.headers.get("location")


async def test_invoice_replay_returns_the_first_answer_and_creates_nothing(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    buyer = await create_client(client, account)
    body = invoice_body(buyer["id"], notes="once")
    first = await client.post(INVOICES, headers=keyed(account, "inv-1"), json=body)
    assert first.status_code == 201, first.text
    assert REPLAYED not in first.headers
    settle(store.database_url)
    before = store.snapshot()

    for _ in range(2):
        again = await client.post(INVOICES, headers=keyed(account, "inv-1"), json=body)
        assert_same_answer(first, again)
        assert again.headers[REPLAYED] == "true"
    settle(store.database_url)
    assert store.snapshot() == before  # no event, no row

    listed = await get_json(client, account, INVOICES)
    assert [inv["id"] for inv in listed["data"]] == [first.json()["id"]]
    fetched = await get_json(client, account, f"{INVOICES}/{first.json()['id']}")
    assert [e["type"] for e in fetched["events"]] == ["created"]
    # Only one number was consumed.
    following = await create_invoice(client, account, buyer["id"])
    assert first.json()["number"].endswith("-00001")
    assert following["number"].endswith("-00002")


async def test_client_replay_returns_the_first_answer_and_creates_nothing(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    body = {"name": "Once Ltd", "email": "once@example.com", "external_id": "ext-once"}
    first = await client.post(CLIENTS, headers=keyed(account, "client-1"), json=body)
    assert first.status_code == 201, first.text
    settle(store.database_url)
    before = store.snapshot()
    again = await client.post(CLIENTS, headers=keyed(account, "client-1"), json=body)
    assert_same_answer(first, again)
    assert again.headers[REPLAYED] == "true"
    settle(store.database_url)
    assert store.snapshot() == before
    listed = await get_json(client, account, CLIENTS)
    assert [c["id"] for c in listed["data"]] == [first.json()["id"]]


async def test_the_same_key_on_another_path_is_a_different_request(
    client: AsyncTestClient[Any], account: Account
) -> None:
    buyer = await client.post(CLIENTS, headers=keyed(account, "shared"), json={"name": "S"})
    assert buyer.status_code == 201
    invoice = await client.post(
        INVOICES, headers=keyed(account, "shared"), json=invoice_body(buyer.json()["id"])
    )
    body = assert_problem(invoice, 409)
    assert problem_fields(invoice) == ["Idempotency-Key"]
    assert "Idempotency-Key" in str(body)


@pytest.mark.parametrize("path", [INVOICES, CLIENTS])
async def test_same_key_different_body_is_409_naming_the_key(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe, path: str
) -> None:
    buyer = await create_client(client, account)
    if path == INVOICES:
        body, other = invoice_body(buyer["id"]), invoice_body(buyer["id"], notes="changed")
    else:
        body, other = {"name": "First Name"}, {"name": "Other Name"}
    first = await client.post(path, headers=keyed(account, "k-conflict"), json=body)
    assert first.status_code == 201, first.text
    problem = await assert_rejected(
        client,
        store,
        "POST",
        path,
        status=409,
        fields=["Idempotency-Key"],
        headers=keyed(account, "k-conflict"),
        json=other,
    )
    assert "Idempotency-Key" in problem["errors"][0]["field"]
    # The original still replays.
    again = await client.post(path, headers=keyed(account, "k-conflict"), json=body)
    assert_same_answer(first, again)


@pytest.mark.parametrize("path", [INVOICES, CLIENTS])
async def test_key_length_is_1_to_255(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe, path: str
) -> None:
    buyer = await create_client(client, account)
    body = invoice_body(buyer["id"]) if path == INVOICES else {"name": "Long Key Ltd"}
    for bad in ("k" * 256, ""):
        await assert_rejected(
            client,
            store,
            "POST",
            path,
            status=422,
            fields=["Idempotency-Key"],
            headers=keyed(account, bad),
            json=body,
        )
    longest = await client.post(path, headers=keyed(account, "k" * 255), json=body)
    assert longest.status_code == 201, longest.text
    replay = await client.post(path, headers=keyed(account, "k" * 255), json=body)
    assert_same_answer(longest, replay)
    assert replay.headers[REPLAYED] == "true"


async def test_the_same_key_in_another_business_is_independent(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    one, two = new_account("Key Owner One"), new_account("Key Owner Two")
    answers = []
    for account in (one, two):
        buyer = await create_client(client, account, "Same Name")
        response = await client.post(
            INVOICES, headers=keyed(account, "same-key"), json=invoice_body(buyer["id"])
        )
        assert response.status_code == 201, response.text
        assert REPLAYED not in response.headers
        answers.append(response.json())
    assert answers[0]["id"] != answers[1]["id"]
    assert answers[0]["number"].endswith("-00001")
    assert answers[1]["number"].endswith("-00001")
    for account, answer in zip((one, two), answers, strict=True):
        listed = await get_json(client, account, INVOICES)
        assert [inv["id"] for inv in listed["data"]] == [answer["id"]]

    # Clients too: the same key and the same body make one client in each business.
    made = [
        await client.post(CLIENTS, headers=keyed(account, "c-key"), json={"name": "Twin"})
        for account in (one, two)
    ]
    assert [r.status_code for r in made] == [201, 201]
    assert made[0].json()["id"] != made[1].json()["id"]


@pytest.mark.parametrize("path", [INVOICES, CLIENTS])
async def test_concurrent_identical_requests_with_one_key_do_the_work_once(
    client: AsyncTestClient[Any], new_account: Callable[..., Account], path: str
) -> None:
    account = new_account("Double Click SARL")
    buyer = await create_client(client, account, "Aardvark First")
    body = invoice_body(buyer["id"]) if path == INVOICES else {"name": "Zebra Twice"}
    request = ("POST", path, {"headers": keyed(account, "double-click"), "json": body})
    responses = await concurrently(client, [request] * 5)
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    for other in responses[1:]:
        assert other.content == responses[0].content
    assert sum(REPLAYED not in r.headers for r in responses) == 1
    listed = await get_json(client, account, path)
    if path == INVOICES:
        assert listed["total"] == 1
        assert listed["data"][0]["number"].endswith("-00001")
    else:
        assert [c["name"] for c in listed["data"]] == ["Aardvark First", "Zebra Twice"]
    assert listed["data"][-1]["id"] == responses[0].json()["id"]


@pytest.mark.parametrize("path", [INVOICES, CLIENTS])
async def test_a_failed_request_does_not_keep_the_key(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe, path: str
) -> None:
    buyer = await create_client(client, account)
    if path == INVOICES:
        bad, good = invoice_body(buyer["id"], currency="XXX"), invoice_body(buyer["id"])
    else:
        bad, good = {"name": " "}, {"name": "Fixed Ltd"}
    for _ in range(2):  # failing again is still a failure, not a replay or a conflict
        await assert_rejected(
            client, store, "POST", path, status=422, headers=keyed(account, "retry"), json=bad
        )
    fixed = await client.post(path, headers=keyed(account, "retry"), json=good)
    assert fixed.status_code == 201, fixed.text
    assert REPLAYED not in fixed.headers
    replay = await client.post(path, headers=keyed(account, "retry"), json=good)
    assert_same_answer(fixed, replay)
    assert replay.headers[REPLAYED] == "true"


async def test_a_request_refused_by_the_application_does_not_keep_the_key(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    # Refused after parsing (archived client), inside the idempotent section.
    gone = await create_client(client, account, "Gone")
    await client.delete(f"{CLIENTS}/{gone['id']}", headers=account.headers)
    await assert_rejected(
        client,
        store,
        "POST",
        INVOICES,
        status=422,
        fields=["client_id"],
        headers=keyed(account, "after-archive"),
        json=invoice_body(gone["id"]),
    )
    live = await create_client(client, account, "Live")
    created = await client.post(
        INVOICES, headers=keyed(account, "after-archive"), json=invoice_body(live["id"])
    )
    assert created.status_code == 201, created.text
    assert created.json()["number"].endswith("-00001")


async def test_without_a_key_each_post_creates(
    client: AsyncTestClient[Any], account: Account
) -> None:
    buyer = await create_client(client, account)
    body = invoice_body(buyer["id"])
    first = await client.post(INVOICES, headers=account.headers, json=body)
    second = await client.post(INVOICES, headers=account.headers, json=body)
    assert [first.status_code, second.status_code] == [201, 201]
    assert first.json()["id"] != second.json()["id"]
    assert REPLAYED not in second.headers


async def test_a_key_older_than_24_hours_is_free_again(
    client: AsyncTestClient[Any], account: Account, database_url: str
) -> None:
    buyer = await create_client(client, account)
    first = await client.post(
        INVOICES, headers=keyed(account, "daily"), json=invoice_body(buyer["id"])
    )
    assert first.status_code == 201, first.text
    with psycopg.connect(database_url) as conn:
        aged = conn.execute(
            "UPDATE idempotency_keys SET created_at = now() - interval '24 hours 1 minute'"
            " WHERE business_id = %s AND key = 'daily'",
            (account.business_id,),
        )
        assert aged.rowcount == 1
    # Past 24 hours the key is a new request: another body is no conflict, it creates.
    other = await client.post(
        INVOICES, headers=keyed(account, "daily"), json=invoice_body(buyer["id"], notes="new")
    )
    assert other.status_code == 201, other.text
    assert REPLAYED not in other.headers
    assert other.json()["id"] != first.json()["id"]
    assert other.json()["number"].endswith("-00002")
    # ... and it is the answer replayed from now on.
    again = await client.post(
        INVOICES, headers=keyed(account, "daily"), json=invoice_body(buyer["id"], notes="new")
    )
    assert_same_answer(other, again)
