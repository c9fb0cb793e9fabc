"""/api/v1/api_keys: list, create (the key shown once), revoke (at once, the key in use too),
each business its own keys only, bad input refused with nothing stored, and `last_used_at`
kept to its documented precision."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from fastfaktura.api.app import create_app
from fastfaktura.config import AccountSettings, PdfPoolSettings, RateLimitSettings, Settings
from tests.conftest import Account, StoreProbe
from tests.helpers import assert_problem, assert_rejected

KEYS = "/api/v1/api_keys"
BUSINESS = "/api/v1/business"


async def test_a_new_key_is_shown_once_then_listed_by_its_prefix_only(
    client: AsyncTestClient[Any], account: Account
) -> None:
    created = await client.post(KEYS, json={"name": "CI pipeline"}, headers=account.headers)
    assert created.status_code == 201, created.text
    body = created.json()
    secret = body["api_key"]
    assert secret.startswith("ffk_test_")
    assert body["key_prefix"] == secret[:16]
    assert body["name"] == "CI pipeline"
    assert body["last_used_at"] is None
    assert body["revoked_at"] is None
    assert created.headers["cache-control"] == "no-store"

    works = await client.get(BUSINESS, headers={"X-Api-Key": secret})
    assert works.status_code == 200
    assert works.json()["id"] == str(account.business_id)

    listed = await client.get(KEYS, headers=account.headers)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert (page["page"], page["per_page"], page["total"]) == (1, 50, 2)
    assert secret not in listed.text
    assert account.api_key not in listed.text
    newest, first = page["data"]
    assert set(newest) == {"key_prefix", "name", "created_at", "last_used_at", "revoked_at"}
    assert (newest["key_prefix"], newest["name"]) == (body["key_prefix"], "CI pipeline")
    assert (first["key_prefix"], first["name"]) == (account.key_prefix, None)


async def test_a_key_without_a_body_or_a_name_has_no_name(
    client: AsyncTestClient[Any], account: Account
) -> None:
    bare = await client.post(KEYS, headers=account.headers)
    assert bare.status_code == 201, bare.text
    assert bare.json()["name"] is None
    null = await client.post(KEYS, json={"name": None}, headers=account.headers)
    assert null.status_code == 201
    assert null.json()["name"] is None


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": 5}, ["name"]),
        ({"name": "x" * 101}, ["name"]),
        ({"nom": "CI"}, ["nom"]),
        ({"name": "CI", "api_key": "ffk_test_mine"}, ["api_key"]),
        ([], ["body"]),
    ],
)
async def test_a_bad_creation_is_refused_naming_the_field_and_stores_nothing(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe, body: Any, fields: list[str]
) -> None:
    await assert_rejected(
        client, store, "POST", KEYS, status=422, fields=fields, json=body, headers=account.headers
    )


async def test_a_body_that_is_not_json_is_a_400_and_stores_nothing(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    await assert_rejected(
        client,
        store,
        "POST",
        KEYS,
        status=400,
        content=b'{"name": ',
        headers={**account.headers, "Content-Type": "application/json"},
    )


@pytest.mark.parametrize(
    ("query", "field"), [("?per_page=0", "per_page"), ("?page=x", "page"), ("?limit=5", "limit")]
)
async def test_list_query_rules(
    client: AsyncTestClient[Any], account: Account, query: str, field: str
) -> None:
    response = await client.get(KEYS + query, headers=account.headers)
    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == [field]


async def test_revoking_a_key_refuses_it_at_once_and_the_other_key_still_works(
    client: AsyncTestClient[Any], account: Account
) -> None:
    spare = (await client.post(KEYS, json={"name": "spare"}, headers=account.headers)).json()
    revoked = await client.delete(f"{KEYS}/{spare['key_prefix']}", headers=account.headers)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["key_prefix"] == spare["key_prefix"]
    assert revoked.json()["name"] == "spare"
    assert revoked.json()["revoked_at"] is not None

    refused = await client.get(BUSINESS, headers={"X-Api-Key": spare["api_key"]})
    assert_problem(refused, 401)
    assert (await client.get(BUSINESS, headers=account.headers)).status_code == 200
    again = await client.delete(f"{KEYS}/{spare['key_prefix']}", headers=account.headers)
    assert again.status_code == 200
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    listed = (await client.get(KEYS, headers=account.headers)).json()["data"]
    assert [k["revoked_at"] is not None for k in listed] == [True, False]


async def test_the_key_in_use_can_revoke_itself(
    client: AsyncTestClient[Any], account: Account
) -> None:
    response = await client.delete(f"{KEYS}/{account.key_prefix}", headers=account.headers)
    assert response.status_code == 200, response.text
    assert response.json()["revoked_at"] is not None
    assert_problem(await client.get(BUSINESS, headers=account.headers), 401)
    assert_problem(await client.get(KEYS, headers=account.headers), 401)


async def test_another_business_keys_are_neither_listed_nor_revocable(
    client: AsyncTestClient[Any], new_account: Callable[..., Account], store: StoreProbe
) -> None:
    mine, theirs = new_account("Mine AB"), new_account("Theirs AS")
    for prefix in (theirs.key_prefix, "ffk_test_doesnot", "short", "ffk_test_" + "x" * 30):
        await assert_rejected(
            client, store, "DELETE", f"{KEYS}/{prefix}", status=404, headers=mine.headers
        )
    listed = await client.get(KEYS, headers=mine.headers)
    assert [k["key_prefix"] for k in listed.json()["data"]] == [mine.key_prefix]
    still = await client.get(BUSINESS, headers=theirs.headers)
    assert still.status_code == 200
    assert still.json()["name"] == "Theirs AS"


async def _last_used(client: AsyncTestClient[Any], account: Account) -> datetime | None:
    listed = await client.get(KEYS, headers=account.headers)
    (key,) = [k for k in listed.json()["data"] if k["key_prefix"] == account.key_prefix]
    return None if key["last_used_at"] is None else datetime.fromisoformat(key["last_used_at"])


async def test_last_used_at_is_written_once_per_precision_interval(
    client: AsyncTestClient[Any], account: Account
) -> None:
    """Default precision, 60 s: the first use is written, later ones within 60 s are not."""
    before = datetime.now(UTC)
    first = await _last_used(client, account)  # the list request itself is a use
    assert first is not None
    assert before - timedelta(seconds=1) <= first <= datetime.now(UTC)
    await asyncio.sleep(0.05)
    assert (await client.get(BUSINESS, headers=account.headers)).status_code == 200
    assert await _last_used(client, account) == first


@pytest.fixture
async def exact_client(database_url: str) -> AsyncIterator[AsyncTestClient[Any]]:
    settings = Settings(
        database_url=database_url,
        public_base_url="http://testserver",
        rate_limits=RateLimitSettings.off(),
        accounts=AccountSettings(key_last_used_precision=0),
        pdf=PdfPoolSettings(workers=1),  # no PDF here: one warm-up render, not three
    )
    async with AsyncTestClient(app=create_app(settings, database_url)) as test_client:
        yield test_client


async def test_with_precision_zero_every_use_is_written(
    exact_client: AsyncTestClient[Any], account: Account
) -> None:
    first = await _last_used(exact_client, account)
    await asyncio.sleep(0.05)
    second = await _last_used(exact_client, account)
    assert first is not None
    assert second is not None
    assert second > first


async def test_a_retried_creation_with_an_idempotency_key_gets_the_same_key_sealed_at_rest(
    client: AsyncTestClient[Any], account: Account, database_url: str
) -> None:
    headers = {**account.headers, "Idempotency-Key": "create-ci-key"}
    first = await client.post(KEYS, json={"name": "CI"}, headers=headers)
    again = await client.post(KEYS, json={"name": "CI"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["cache-control"] == "no-store"
    listed = (await client.get(KEYS, headers=account.headers)).json()
    assert listed["total"] == 2  # the account's own key and this one: no second key was made

    other = await client.post(KEYS, json={"name": "other"}, headers=headers)
    assert_problem(other, 409)

    secret = first.json()["api_key"].encode()
    conn = await asyncpg.connect(database_url)
    try:
        stored = await conn.fetchval(
            "SELECT response_body FROM idempotency_keys WHERE business_id = $1 AND key = $2",
            account.business_id,
            "create-ci-key",
        )
    finally:
        await conn.close()
    assert stored is not None
    assert secret not in bytes(stored)
