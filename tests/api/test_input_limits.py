"""Input is judged as written, in one place for every endpoint (API.md "Lists", "Limits and
availability"): numbers without exponents and in ASCII digits, bounded before any arithmetic;
JSON at most 1 MiB (413) and 32 levels deep (400); `page` and `per_page` bounded; an unknown
or repeated query parameter is a 422 naming it, on every /api/v1 route. Each refusal is
problem+json and leaves nothing behind."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from tests.api.request_targets import TARGETS
from tests.conftest import Account, StoreProbe
from tests.helpers import assert_problem, assert_rejected
from tests.invoicing_support import (
    BUSINESS,
    CLIENTS,
    INVOICES,
    LINE,
    create_client,
    create_invoice,
    get_json,
    invoice_body,
)

MIB = 1024 * 1024
JSON = {"Content-Type": "application/json"}


def deep(levels: int, inner: bytes = b"1") -> bytes:
    return b"[" * levels + inner + b"]" * levels


async def buyer_of(client: AsyncTestClient[Any], account: Account) -> str:
    return str((await create_client(client, account))["id"])


# -- numbers judged as written -------------------------------------------------------------

# Raw JSON for a line's value: strings and numbers, each refused as written.
NOT_A_QUANTITY = [
    '"1e-999999999"',  # accepted as 0 before: normalize() underflowed
    "1e-999999999",
    '"1e999999999"',  # a 500 before: normalize() overflowed
    "1e999999999",
    '"1E2"',
    "1E2",  # 100, but written with an exponent
    "1.5e0",
    '"1.00000000000000000000000000001"',  # rounds to 1 at Decimal's 28 digits
    '"\u0661"',  # Arabic-Indic 1
    '"\u0662.\u0665"',  # Arabic-Indic 2.5
    '"\uff11"',  # fullwidth 1
    '"1_000"',
    '"Infinity"',
    '"0x10"',
    '"' + "1" * 60 + '"',
    "1" + "0" * 30,
]
NOT_A_TAX_RATE = [
    '"1e-999999999"',
    "1e-999999999",
    '"1e999999999"',
    "2E1",
    '"\u0662\u0660"',  # Arabic-Indic 20
    '"5.50000000000000000000000000001"',
]


def invoice_with_raw(buyer: str, field: str, raw: str) -> bytes:
    line = ", ".join(
        f'"{name}": {raw if name == field else _json(value)}' for name, value in LINE.items()
    )
    return f'{{"client_id": "{buyer}", "currency": "EUR", "lines": [{{{line}}}]}}'.encode()


def _json(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


@pytest.mark.parametrize(
    ("field", "raw"),
    [("quantity", raw) for raw in NOT_A_QUANTITY] + [("tax_rate", raw) for raw in NOT_A_TAX_RATE],
)
async def test_a_decimal_is_judged_as_written(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe, field: str, raw: str
) -> None:
    buyer = await buyer_of(client, account)
    await assert_rejected(
        client,
        store,
        "POST",
        INVOICES,
        status=422,
        fields=[f"lines[0].{field}"],
        headers={**account.headers, **JSON},
        content=invoice_with_raw(buyer, field, raw),
    )


async def test_decimals_with_trailing_zeros_or_at_the_limits_are_accepted(
    client: AsyncTestClient[Any], account: Account
) -> None:
    buyer = await buyer_of(client, account)
    body = invoice_with_raw(buyer, "quantity", '"2.500000"').replace(
        b'"tax_rate": 20', b'"tax_rate": 5.50'
    )
    response = await client.post(INVOICES, headers={**account.headers, **JSON}, content=body)
    assert response.status_code == 201, response.text
    (line,) = response.json()["lines"]
    assert line["net_cents"] == 25000
    assert response.json()["tax_cents"] == 1375


@pytest.mark.parametrize(
    "raw", ['"1e-999999999"', "1e-999999999", '"1e999999999"', '"\u0661\u0660"', "1E1"]
)
async def test_the_late_payment_rate_is_judged_as_written_too(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe, raw: str
) -> None:
    await assert_rejected(
        client,
        store,
        "PUT",
        BUSINESS,
        status=422,
        fields=["late_payment_rate"],
        headers={**account.headers, **JSON},
        content=f'{{"late_payment_rate": {raw}}}'.encode(),
    )


@pytest.mark.parametrize(
    "raw", ["99999999999999999999", "-99999999999999999999", "9223372036854775808", "1" * 400]
)
async def test_huge_integers_are_a_422_naming_the_field(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe, raw: str
) -> None:
    buyer = await buyer_of(client, account)
    await assert_rejected(
        client,
        store,
        "POST",
        INVOICES,
        status=422,
        fields=["lines[0].unit_price_cents"],
        headers={**account.headers, **JSON},
        content=invoice_with_raw(buyer, "unit_price_cents", raw),
    )
    invoice = await create_invoice(client, account, buyer)
    await assert_rejected(
        client,
        store,
        "POST",
        f"{INVOICES}/{invoice['id']}/payments",
        status=422,
        fields=["amount_cents"],
        headers={**account.headers, **JSON},
        content=f'{{"amount_cents": {raw}, "method": "cash"}}'.encode(),
    )


async def test_an_integer_too_long_to_read_is_a_422_on_the_body(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    # Python refuses to turn more than 4300 digits into an int (CVE-2020-10735).
    await assert_rejected(
        client,
        store,
        "PUT",
        BUSINESS,
        status=422,
        fields=["body"],
        headers={**account.headers, **JSON},
        content=b'{"payment_terms_days": 1' + b"0" * 5000 + b"}",
    )


async def test_dates_and_ids_take_ascii_digits_only(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    buyer = await buyer_of(client, account)
    arabic = str.maketrans(
        "0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"
    )
    for changes, field in [
        ({"due_date": "2099-01-01".translate(arabic)}, "due_date"),
        ({"due_date": "2099-W01-1"}, "due_date"),  # an ISO week date is not YYYY-MM-DD
        ({"client_id": buyer.translate(arabic)}, "client_id"),
        ({"client_id": "{" + buyer + "}"}, "client_id"),
    ]:
        await assert_rejected(
            client,
            store,
            "POST",
            INVOICES,
            status=422,
            fields=[field],
            headers=account.headers,
            json={**invoice_body(buyer), **changes},
        )
    # A path id in other digits names nothing, like any id that is not a UUID.
    response = await client.get(f"{CLIENTS}/{buyer.translate(arabic)}", headers=account.headers)
    assert_problem(response, 404)
    if buyer != buyer.translate(arabic):
        assert (await client.get(f"{CLIENTS}/{buyer}", headers=account.headers)).status_code == 200


async def test_a_payment_timestamp_must_be_rfc_3339_in_ascii_digits(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    invoice = await create_invoice(client, account, await buyer_of(client, account))
    url = f"{INVOICES}/{invoice['id']}/payments"
    for paid_at in ("\u0662\u0660\u0662\u0666-01-01T10:00:00Z", "2026-W01-1T10:00:00Z"):
        await assert_rejected(
            client,
            store,
            "POST",
            url,
            status=422,
            fields=["paid_at"],
            headers=account.headers,
            json={"amount_cents": 100, "method": "cash", "paid_at": paid_at},
        )


# -- JSON depth and size -------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", TARGETS)
@pytest.mark.parametrize("idempotency", [False, True], ids=["plain", "idempotency-key"])
async def test_json_nested_deeper_than_32_levels_is_a_400(
    client: AsyncTestClient[Any],
    account: Account,
    store: StoreProbe,
    endpoint: str,
    idempotency: bool,
) -> None:
    method, url = await TARGETS[endpoint](client, account)
    headers = {**account.headers, **JSON}
    if idempotency:
        headers["Idempotency-Key"] = str(uuid4())
    # 100,000 levels was a RecursionError (500); 33 is the first depth refused.
    for body in (deep(100_000), b'{"name": ' + deep(32) + b"}"):
        problem = await assert_rejected(
            client, store, method, url, status=400, headers=headers, content=body
        )
        assert "nested deeper than 32 levels" in problem["detail"]


async def test_32_levels_are_read_and_judged_field_by_field(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    # The object is level 1: tags at 31 more levels is 32 in all, and only the field is wrong.
    await assert_rejected(
        client,
        store,
        "POST",
        CLIENTS,
        status=422,
        fields=["tags[0]"],
        headers={**account.headers, **JSON},
        content=b'{"name": "A", "tags": ' + deep(31, b'"[[[[{{{{"') + b"}",
    )


@pytest.mark.parametrize("endpoint", TARGETS)
async def test_a_body_over_1_mib_is_a_413(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe, endpoint: str
) -> None:
    method, url = await TARGETS[endpoint](client, account)
    body = b'{"name": "' + b"x" * MIB + b'"}'
    problem = await assert_rejected(
        client,
        store,
        method,
        url,
        status=413,
        headers={**account.headers, **JSON},
        content=body,
    )
    assert "1 MiB" in problem["detail"]


async def test_a_streamed_body_over_1_mib_is_a_413_without_a_content_length(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    """Chunked, with no Content-Length to refuse early: counted while it streams in."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    async def post() -> httpx.Response:
        # Through httpx's ASGI transport in the app's own loop: the test client's transport
        # takes no streamed body.
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.post(CLIENTS, headers={**account.headers, **JSON}, content=chunks())

    before = store.snapshot()
    response = await asyncio.to_thread(client.blocking_portal.call, post)
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)
    assert store.snapshot() == before


async def test_a_body_of_exactly_1_mib_is_read(
    client: AsyncTestClient[Any], account: Account
) -> None:
    body = b'{"name": "Padded Ltd"}'
    body += b" " * (MIB - len(body))
    response = await client.post(CLIENTS, headers={**account.headers, **JSON}, content=body)
    assert response.status_code == 201, response.text


# -- lists: page and per_page --------------------------------------------------------------

LISTS = [CLIENTS, INVOICES, "/api/v1/sandbox/messages"]


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize(
    "query",
    [
        "page=99999999999999999999",  # a 500 before: the offset overflowed a bigint
        "page=100001",
        "page=0",
        "page=1e3",
        "page=%D9%A1",  # Arabic-Indic 1
        "page=+1",
        "per_page=101",
        "per_page=99999999999999999999",
        "per_page=5e1",
    ],
)
async def test_page_and_per_page_out_of_range_are_a_422_naming_them(
    client: AsyncTestClient[Any], account: Account, url: str, query: str
) -> None:
    response = await client.get(f"{url}?{query}", headers=account.headers)
    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == [query.split("=")[0]]


@pytest.mark.parametrize("url", LISTS)
async def test_the_last_page_allowed_is_100000(
    client: AsyncTestClient[Any], account: Account, url: str
) -> None:
    listed = await get_json(client, account, f"{url}?page=100000&per_page=100")
    assert (listed["data"], listed["page"], listed["per_page"]) == ([], 100000, 100)


# -- query parameters ----------------------------------------------------------------------


async def test_an_unknown_query_parameter_is_a_422_naming_it(
    client: AsyncTestClient[Any], account: Account
) -> None:
    buyer = await buyer_of(client, account)
    await create_invoice(client, account, buyer)
    # The filter does not exist here (a typo of client_id, a filter since issue 17): it must
    # not answer every invoice as if it did.
    response = await client.get(f"{INVOICES}?clientid={uuid4()}", headers=account.headers)
    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["clientid"]
    assert "client_id, due_date_from" in problem["errors"][0]["message"]
    assert "page, per_page, q, status" in problem["errors"][0]["message"]
    response = await client.get(f"{CLIENTS}?qq=x&archived=true&sort=name", headers=account.headers)
    assert sorted(e["field"] for e in assert_problem(response, 422)["errors"]) == ["qq", "sort"]


@pytest.mark.parametrize(
    ("url", "query", "field"),
    [
        (INVOICES, "status=draft&status=sent", "status"),
        (INVOICES, "page=1&page=2", "page"),
        (CLIENTS, "q=a&q=b", "q"),
        (CLIENTS, "archived=true&archived=false", "archived"),
    ],
)
async def test_a_query_parameter_given_twice_is_a_422_naming_it(
    client: AsyncTestClient[Any], account: Account, url: str, query: str, field: str
) -> None:
    response = await client.get(f"{url}?{query}", headers=account.headers)
    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == [field]
    assert problem["errors"][0]["message"] == "may be given only once"


def api_routes(client: AsyncTestClient[Any]) -> list[tuple[str, str]]:
    """Every (method, path) of the app under /api/v1, path parameters filled with a new id."""
    found = []
    for route in client.app.routes:
        if isinstance(route, HTTPRoute) and route.path.startswith("/api/v1"):
            path = re.sub(r"\{[^}]+\}", str(uuid4()), route.path)
            found += [(m, path) for m in sorted(route.route_handler_map) if m != "OPTIONS"]
    return found


async def test_every_api_route_refuses_an_unknown_query_parameter(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    routes = api_routes(client)
    # A guard against walking nothing: the routes this suite knows of are all there.
    assert {("GET", CLIENTS), ("POST", INVOICES), ("POST", "/api/v1/webhooks/stripe")} <= set(
        routes
    )
    assert len(routes) >= 15
    for method, path in routes:
        problem = await assert_rejected(
            client,
            store,
            method,
            f"{path}?unknown_parameter=1",
            status=422,
            headers={**account.headers, **JSON},
            content=b"{}",
        )
        assert [e["field"] for e in problem["errors"]] == ["unknown_parameter"], (method, path)


async def test_the_public_page_ignores_tracking_parameters(client: AsyncTestClient[Any]) -> None:
    # Mail clients and link shorteners add them; the page is HTML and never a 422.
    response = await client.get("/i/no-such-token?utm_source=mail&fbclid=x&fbclid=y")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


async def test_documented_parameters_still_work(
    client: AsyncTestClient[Any], account: Account
) -> None:
    await create_invoice(client, account, await buyer_of(client, account))
    listed = await get_json(client, account, f"{INVOICES}?status=draft&page=1&per_page=10")
    assert listed["total"] == 1
    assert (await get_json(client, account, f"{CLIENTS}?q=client&archived=false"))["total"] == 1
