"""Every endpoint that reads a JSON body refuses one it cannot read the same way (API.md
"Errors"): not JSON (or not UTF-8) is a 400; JSON that is not an object is a 422 naming `body`.
Either way the answer is problem+json, and nothing is stored (no event, no row)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import Account, StoreProbe
from tests.helpers import assert_rejected
from tests.invoicing_support import BUSINESS, CLIENTS, INVOICES, create_client, create_invoice

NOT_JSON = [
    b"{not json",
    b'{"name": "x",}',
    b'{"name": "A"',
    b"[1, 2",
    b'{"client_id": }',
    b'{"lines": [}',
    b"channels=email",
    b'{"name": "\\ud800"}',
    b"\xff\xfe",
    b"",
    b"   ",
]
NOT_AN_OBJECT = [b"[]", b'[{"name": "A"}]', b'"text"', b"42", b"true", b"null"]

Target = Callable[[AsyncTestClient[Any], Account], Awaitable[tuple[str, str]]]


async def _business(client: AsyncTestClient[Any], account: Account) -> tuple[str, str]:
    return "PUT", BUSINESS


async def _new_client(client: AsyncTestClient[Any], account: Account) -> tuple[str, str]:
    return "POST", CLIENTS


async def _a_client(client: AsyncTestClient[Any], account: Account) -> tuple[str, str]:
    return "PUT", f"{CLIENTS}/{(await create_client(client, account))['id']}"


async def _new_invoice(client: AsyncTestClient[Any], account: Account) -> tuple[str, str]:
    return "POST", INVOICES


def _on_an_invoice(action: str) -> Target:
    async def target(client: AsyncTestClient[Any], account: Account) -> tuple[str, str]:
        buyer = await create_client(client, account, email="a@acme.example")
        invoice = await create_invoice(client, account, buyer["id"])
        return "POST", f"{INVOICES}/{invoice['id']}/{action}"

    return target


TARGETS: dict[str, Target] = {
    "PUT /business": _business,
    "POST /clients": _new_client,
    "PUT /clients/{id}": _a_client,
    "POST /invoices": _new_invoice,
    "POST /invoices/{id}/send": _on_an_invoice("send"),
    "POST /invoices/{id}/payments": _on_an_invoice("payments"),
    "POST /invoices/{id}/cancel": _on_an_invoice("cancel"),
}
# Cancel's body is optional: an empty one is a cancel without a reason, not an error.
OPTIONAL_BODY = {"POST /invoices/{id}/cancel"}


@pytest.mark.parametrize(
    ("endpoint", "raw"),
    [
        (endpoint, raw)
        for endpoint in TARGETS
        for raw in NOT_JSON
        if raw.strip() or endpoint not in OPTIONAL_BODY
    ],
)
async def test_a_body_that_is_not_json_is_a_400(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe, endpoint: str, raw: bytes
) -> None:
    method, url = await TARGETS[endpoint](client, account)
    await assert_rejected(
        client,
        store,
        method,
        url,
        status=400,
        headers={**account.headers, "Content-Type": "application/json"},
        content=raw,
    )


@pytest.mark.parametrize("endpoint", TARGETS)
@pytest.mark.parametrize("raw", NOT_AN_OBJECT)
async def test_json_that_is_not_an_object_is_a_422_naming_the_body(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe, endpoint: str, raw: bytes
) -> None:
    method, url = await TARGETS[endpoint](client, account)
    await assert_rejected(
        client,
        store,
        method,
        url,
        status=422,
        fields=["body"],
        headers={**account.headers, "Content-Type": "application/json"},
        content=raw,
    )
