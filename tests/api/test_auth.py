"""API keys: both header forms authenticate; every other presentation answers 401 problem+json."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest
from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from fastfaktura.event_reader import event_reader
from fastfaktura.readmodels.catchup import catch_up
from fastfaktura.readmodels.models import read_model
from tests.conftest import Account, StoreProbe
from tests.helpers import assert_problem, assert_rejected

BUSINESS = "/api/v1/business"


async def test_x_api_key_header_authenticates_as_its_business(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    account = new_account("Header Form SARL")
    response = await client.get(BUSINESS, headers={"X-Api-Key": account.api_key})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == str(account.business_id)
    assert response.json()["name"] == "Header Form SARL"


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
async def test_bearer_token_authenticates_as_its_business(
    client: AsyncTestClient[Any], new_account: Callable[..., Account], scheme: str
) -> None:
    account = new_account("Bearer Form AS")
    response = await client.get(BUSINESS, headers={"Authorization": f"{scheme} {account.api_key}"})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == str(account.business_id)


async def test_each_key_authenticates_as_its_own_business(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    first, second = new_account("First AB"), new_account("Second AB")
    one = await client.get(BUSINESS, headers=first.headers)
    two = await client.get(BUSINESS, headers={"Authorization": f"Bearer {second.api_key}"})
    assert (one.json()["id"], one.json()["name"]) == (str(first.business_id), "First AB")
    assert (two.json()["id"], two.json()["name"]) == (str(second.business_id), "Second AB")


def _unknown_key() -> str:
    return "ffk_test_" + secrets.token_urlsafe(32)


UNAUTHORIZED_HEADERS: dict[str, Callable[[Account], dict[str, str]]] = {
    "missing key": lambda a: {},
    "empty x-api-key": lambda a: {"X-Api-Key": ""},
    "malformed: not a key": lambda a: {"X-Api-Key": "not-a-key"},
    "malformed: unknown tag": lambda a: {"X-Api-Key": "ffk_prod_" + a.api_key[9:]},
    "malformed: too short": lambda a: {"X-Api-Key": "ffk_test_abc"},
    "malformed: bad characters": lambda a: {"X-Api-Key": a.api_key[:20] + "!$%" + a.api_key[23:]},
    "malformed: only the prefix": lambda a: {"X-Api-Key": a.key_prefix},
    "unknown sandbox key": lambda a: {"X-Api-Key": _unknown_key()},
    "unknown live key": lambda a: {"X-Api-Key": "ffk_live_" + secrets.token_urlsafe(32)},
    "known key with one character changed": lambda a: {
        "X-Api-Key": a.api_key[:-1] + ("A" if a.api_key[-1] != "A" else "B")
    },
    "unknown bearer key": lambda a: {"Authorization": f"Bearer {_unknown_key()}"},
    "basic scheme": lambda a: {"Authorization": f"Basic {a.api_key}"},
    "token scheme": lambda a: {"Authorization": f"Token {a.api_key}"},
    "no scheme": lambda a: {"Authorization": a.api_key},
    "empty bearer": lambda a: {"Authorization": "Bearer "},
    "bare bearer": lambda a: {"Authorization": "Bearer"},
    "empty authorization": lambda a: {"Authorization": ""},
    "malformed bearer": lambda a: {"Authorization": "Bearer not-a-key"},
}


@pytest.mark.parametrize("case", list(UNAUTHORIZED_HEADERS))
async def test_request_without_a_valid_key_answers_401_problem(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe, case: str
) -> None:
    headers = UNAUTHORIZED_HEADERS[case](account)
    for method, url, body in [
        ("GET", BUSINESS, None),
        ("PUT", BUSINESS, {"name": "Hijacked"}),
        ("POST", "/api/v1/clients", {"name": "Intruder"}),
    ]:
        problem = await assert_rejected(
            client, store, method, url, status=401, headers=headers, json=body
        )
        assert problem["detail"]
    # The business was not touched by any of them.
    profile = await client.get(BUSINESS, headers=account.headers)
    assert profile.json()["name"] == "Test Business"


async def test_unauthorized_answer_names_the_bearer_challenge(
    client: AsyncTestClient[Any],
) -> None:
    response = await client.get(BUSINESS)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].lower().startswith("bearer")


async def test_revoked_key_answers_401_while_the_business_other_key_still_works(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
    store: StoreProbe,
) -> None:
    account = new_account("Revoking Oy")
    second = invoicing.issue_api_key(account.business_id).value
    catch_up(event_reader(invoicing), database_url, read_model("api_keys"))
    assert (await client.get(BUSINESS, headers=account.headers)).status_code == 200

    invoicing.revoke_api_key(account.key_prefix)
    catch_up(event_reader(invoicing), database_url, read_model("api_keys"))

    for headers in (account.headers, {"Authorization": f"Bearer {account.api_key}"}):
        await assert_rejected(client, store, "GET", BUSINESS, status=401, headers=headers)
        await assert_rejected(client, store, "GET", "/api/v1/clients", status=401, headers=headers)
    still = await client.get(BUSINESS, headers={"X-Api-Key": second.secret})
    assert still.status_code == 200
    assert still.json()["id"] == str(account.business_id)


ENDPOINTS = [
    ("GET", "/api/v1/business", None),
    ("PUT", "/api/v1/business", {"name": "x"}),
    ("GET", "/api/v1/clients", None),
    ("POST", "/api/v1/clients", {"name": "x"}),
    ("GET", "/api/v1/clients/{id}", None),
    ("PUT", "/api/v1/clients/{id}", {"name": "x"}),
    ("DELETE", "/api/v1/clients/{id}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
async def test_every_api_endpoint_requires_a_key(
    client: AsyncTestClient[Any],
    account: Account,
    store: StoreProbe,
    method: str,
    path: str,
    body: dict[str, str] | None,
) -> None:
    created = await client.post("/api/v1/clients", headers=account.headers, json={"name": "Mine"})
    url = path.format(id=created.json()["id"])
    await assert_rejected(client, store, method, url, status=401, json=body)
    await assert_rejected(
        client, store, method, url, status=401, json=body, headers={"X-Api-Key": _unknown_key()}
    )
    # And with a real key, the very same request works (so the 401 was about the key only).
    response = await client.request(method, url, headers=account.headers, json=body)
    assert response.status_code in (200, 201), response.text


async def test_key_is_checked_before_the_body_or_the_resource(
    client: AsyncTestClient[Any], store: StoreProbe
) -> None:
    await assert_rejected(
        client, store, "POST", "/api/v1/clients", status=401, content=b"{not json"
    )
    await assert_rejected(
        client, store, "PUT", f"/api/v1/clients/{uuid4()}", status=401, json={"name": 5}
    )
    await assert_rejected(client, store, "GET", "/api/v1/clients?page=0", status=401)
