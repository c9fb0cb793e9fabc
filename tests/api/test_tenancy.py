"""Tenancy: a key sees and touches only its own business; a foreign id is exactly 'not found'."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import Account, StoreProbe
from tests.helpers import assert_rejected

CLIENTS = "/api/v1/clients"


@pytest.fixture
async def victim(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> tuple[Account, dict[str, Any]]:
    """A business with one client whose name, email and phone an intruder might search for."""
    owner = new_account("Victim GmbH", locale="sv", email="owner@victim.example")
    response = await client.post(
        CLIENTS,
        headers=owner.headers,
        json={
            "name": "Secret Customer",
            "email": "secret@customer.example",
            "phone": "+4670000001",
            "external_id": "victim-1",
        },
    )
    assert response.status_code == 201
    return owner, response.json()


async def _state(client: AsyncTestClient[Any], owner: Account, client_id: str) -> list[Any]:
    """What the owner sees: its profile, the client, and the whole list."""
    return [
        (await client.get("/api/v1/business", headers=owner.headers)).json(),
        (await client.get(f"{CLIENTS}/{client_id}", headers=owner.headers)).json(),
        (await client.get(f"{CLIENTS}?archived=true", headers=owner.headers)).json(),
    ]


@pytest.mark.parametrize(
    ("method", "body"),
    [("GET", None), ("PUT", {"name": "Stolen"}), ("PUT", {}), ("DELETE", None)],
)
async def test_another_business_client_id_answers_404_exactly_like_a_missing_one(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    store: StoreProbe,
    victim: tuple[Account, dict[str, Any]],
    method: str,
    body: dict[str, Any] | None,
) -> None:
    owner, secret = victim
    intruder = new_account("Intruder Ltd")
    before = await _state(client, owner, secret["id"])

    answers = []
    for target in (secret["id"], str(uuid4()), "not-a-uuid"):
        answers.append(
            await assert_rejected(
                client,
                store,
                method,
                f"{CLIENTS}/{target}",
                status=404,
                headers=intruder.headers,
                json=body,
            )
        )
    assert answers[0] == answers[1] == answers[2]
    assert "Secret" not in str(answers[0])
    assert await _state(client, owner, secret["id"]) == before


async def test_lists_and_search_never_show_another_business_clients(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    victim: tuple[Account, dict[str, Any]],
) -> None:
    owner, secret = victim
    intruder = new_account("Intruder Ltd")
    mine = await client.post(CLIENTS, headers=intruder.headers, json={"name": "Own Customer"})
    assert mine.status_code == 201
    for query in ("", "?archived=true", "?q=secret", "?q=customer", "?q=%2B4670", "?per_page=100"):
        page = (await client.get(f"{CLIENTS}{query}", headers=intruder.headers)).json()
        ids = {item["id"] for item in page["data"]}
        assert secret["id"] not in ids, query
        expected = (
            {mine.json()["id"]}
            if query in ("", "?archived=true", "?q=customer", "?per_page=100")
            else set()
        )
        assert ids == expected, query
        assert page["total"] == len(expected), query
    # The owner's list is likewise only its own.
    owners = (await client.get(f"{CLIENTS}?archived=true", headers=owner.headers)).json()
    assert [item["id"] for item in owners["data"]] == [secret["id"]]


async def test_creating_and_archiving_in_one_business_never_touch_another(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    victim: tuple[Account, dict[str, Any]],
) -> None:
    owner, secret = victim
    intruder = new_account("Intruder Ltd")
    before = await _state(client, owner, secret["id"])
    # Same external id in the other business: no conflict, no effect on the owner.
    created = await client.post(
        CLIENTS, headers=intruder.headers, json={"name": "Copy", "external_id": "victim-1"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["locale"] == "en"  # the intruder's locale, not the victim's
    archived = await client.delete(f"{CLIENTS}/{created.json()['id']}", headers=intruder.headers)
    assert archived.status_code == 200
    # The owner's claim on victim-1 still holds.
    dup = await client.post(
        CLIENTS, headers=owner.headers, json={"name": "Dup", "external_id": "victim-1"}
    )
    assert dup.status_code == 409
    assert await _state(client, owner, secret["id"]) == before


async def test_business_endpoints_only_see_and_change_the_key_business(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    victim: tuple[Account, dict[str, Any]],
) -> None:
    owner, secret = victim
    intruder = new_account("Intruder Ltd")
    before = await _state(client, owner, secret["id"])
    seen = (await client.get("/api/v1/business", headers=intruder.headers)).json()
    assert seen["id"] == str(intruder.business_id)
    assert seen["name"] == "Intruder Ltd"
    changed = await client.put(
        "/api/v1/business",
        headers=intruder.headers,
        json={"name": "Renamed Intruder", "locale": "fr"},
    )
    assert changed.status_code == 200
    assert changed.json()["id"] == str(intruder.business_id)
    # Even naming the victim's id in the body changes nothing but a 422.
    hijack = await client.put(
        "/api/v1/business", headers=intruder.headers, json={"id": str(owner.business_id)}
    )
    assert hijack.status_code == 422
    assert await _state(client, owner, secret["id"]) == before
