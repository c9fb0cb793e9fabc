"""Every endpoint that reads a JSON body, each with how to reach it (a fresh client, invoice ...):
shared by the request-body and input-limit tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import Account
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


async def _a_draft(client: AsyncTestClient[Any], account: Account) -> tuple[str, str]:
    invoice = await create_invoice(client, account, (await create_client(client, account))["id"])
    return "PUT", f"{INVOICES}/{invoice['id']}"


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
    "PUT /invoices/{id}": _a_draft,
    "POST /invoices/{id}/send": _on_an_invoice("send"),
    "POST /invoices/{id}/payments": _on_an_invoice("payments"),
    "POST /invoices/{id}/cancel": _on_an_invoice("cancel"),
}
# Cancel's body is optional: an empty one is a cancel without a reason, not an error.
OPTIONAL_BODY = {"POST /invoices/{id}/cancel"}
