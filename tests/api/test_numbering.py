"""Invoice numbers: `{invoice_prefix}{YYYY}-{NNNNN}`, per business and year, gapless and unique,
also when many creations arrive at once."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any
from uuid import UUID

from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from fastfaktura.domain.invoice import InvoiceLine
from tests.conftest import Account
from tests.invoicing_support import (
    BUSINESS,
    INVOICES,
    concurrently,
    create_client,
    create_invoice,
    get_json,
    invoice_body,
)

CONCURRENT = 40


def sequence(number: str) -> int:
    match = re.fullmatch(r"[A-Za-z0-9_-]*\d{4}-(\d{5,})", number)
    assert match, number
    return int(match.group(1))


async def test_number_format_is_prefix_year_dash_five_digits(
    client: AsyncTestClient[Any], account: Account
) -> None:
    buyer = await create_client(client, account)
    first = await create_invoice(client, account, buyer["id"])
    second = await create_invoice(client, account, buyer["id"])
    year = first["issue_date"][:4]
    assert first["number"] == f"F{year}-00001"
    assert second["number"] == f"F{year}-00002"
    assert re.fullmatch(r"F\d{4}-\d{5}", first["number"])


async def test_concurrent_creations_get_gapless_unique_numbers(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    account = new_account("Rush Hour AS")
    buyer = await create_client(client, account)
    responses = await concurrently(
        client,
        [
            (
                "POST",
                INVOICES,
                {"headers": account.headers, "json": invoice_body(buyer["id"], notes=f"req {i}")},
            )
            for i in range(CONCURRENT)
        ],
    )
    assert [r.status_code for r in responses] == [201] * CONCURRENT, [
        r.text for r in responses if r.status_code != 201
    ]
    invoices = [r.json() for r in responses]
    year = invoices[0]["issue_date"][:4]
    numbers = sorted(inv["number"] for inv in invoices)
    assert numbers == [f"F{year}-{n:05d}" for n in range(1, CONCURRENT + 1)]
    assert len({inv["id"] for inv in invoices}) == CONCURRENT
    # Every request got its own invoice (not another request's answer).
    assert sorted(inv["notes"] for inv in invoices) == sorted(f"req {i}" for i in range(CONCURRENT))

    # The read model agrees: the list holds each number exactly once.
    listed = await get_json(client, account, f"{INVOICES}?per_page=100")
    assert listed["total"] == CONCURRENT
    assert sorted(inv["number"] for inv in listed["data"]) == numbers
    # Newest first: creation order is numbering order.
    assert [sequence(inv["number"]) for inv in listed["data"]] == list(range(CONCURRENT, 0, -1))

    after = await create_invoice(client, account, buyer["id"])
    assert after["number"] == f"F{year}-{CONCURRENT + 1:05d}"


async def test_concurrent_creations_of_two_businesses_number_independently(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    one, two = new_account("Parallel One"), new_account("Parallel Two", invoice_prefix="P2-")
    buyers = {
        one.business_id: await create_client(client, one),
        two.business_id: await create_client(client, two),
    }
    accounts = [one, two] * 10
    responses = await concurrently(
        client,
        [
            (
                "POST",
                INVOICES,
                {
                    "headers": account.headers,
                    "json": invoice_body(buyers[account.business_id]["id"]),
                },
            )
            for account in accounts
        ],
    )
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    numbers: dict[Any, list[str]] = {one.business_id: [], two.business_id: []}
    for account, response in zip(accounts, responses, strict=True):
        numbers[account.business_id].append(response.json()["number"])
    year = responses[0].json()["issue_date"][:4]
    assert sorted(numbers[one.business_id]) == [f"F{year}-{n:05d}" for n in range(1, 11)]
    assert sorted(numbers[two.business_id]) == [f"P2-{year}-{n:05d}" for n in range(1, 11)]


async def test_each_business_starts_at_00001(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    first, second = new_account("Series One"), new_account("Series Two")
    first_buyer = await create_client(client, first)
    for _ in range(3):
        await create_invoice(client, first, first_buyer["id"])
    invoice = await create_invoice(client, second, (await create_client(client, second))["id"])
    assert invoice["number"] == f"F{invoice['issue_date'][:4]}-00001"
    mine = await create_invoice(client, first, first_buyer["id"])
    assert mine["number"].endswith("-00004")


async def test_changing_the_prefix_applies_to_later_numbers_only(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    account = new_account("Prefix Change SARL", invoice_prefix="AB")
    buyer = await create_client(client, account)
    before = await create_invoice(client, account, buyer["id"])
    year = before["issue_date"][:4]
    assert before["number"] == f"AB{year}-00001"

    response = await client.put(BUSINESS, headers=account.headers, json={"invoice_prefix": "INV-"})
    assert response.status_code == 200, response.text
    after = await create_invoice(client, account, buyer["id"])
    # The series is per business and year: the sequence goes on under the new prefix.
    assert after["number"] == f"INV-{year}-00002"
    # The earlier invoice keeps its number.
    fetched = await get_json(client, account, f"{INVOICES}/{before['id']}")
    assert fetched["number"] == f"AB{year}-00001"
    assert fetched["events"][0]["data"]["number"] == f"AB{year}-00001"


async def test_racing_writers_in_two_applications_still_number_without_gaps(
    client: AsyncTestClient[Any], new_account: Callable[..., Account], invoicing: Invoicing
) -> None:
    """The API's application and a second one (as another process would) create at once:
    they race on the series' version, the loser retries, and no number is lost or reused."""
    account = new_account("Two Writers SARL")
    buyer = await create_client(client, account)
    line = InvoiceLine("Direct", Decimal(1), 100, Decimal(0))

    def direct() -> str:
        written = invoicing.create_invoice(
            account.business_id, client_id=UUID(buyer["id"]), currency="EUR", lines=[line]
        )
        return written.value.number

    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=6) as pool:
        direct_calls = [loop.run_in_executor(pool, direct) for _ in range(20)]
        http_calls = concurrently(
            client,
            [
                ("POST", INVOICES, {"headers": account.headers, "json": invoice_body(buyer["id"])})
                for _ in range(20)
            ],
        )
        direct_numbers, http_responses = await asyncio.gather(
            asyncio.gather(*direct_calls), http_calls
        )
    assert all(r.status_code == 201 for r in http_responses), [r.text for r in http_responses]
    numbers = direct_numbers + [r.json()["number"] for r in http_responses]
    year = http_responses[0].json()["issue_date"][:4]
    assert sorted(numbers) == [f"F{year}-{n:05d}" for n in range(1, 41)]
