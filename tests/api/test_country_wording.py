"""A country written out in full ("France") is answered with what is expected, a two-letter
ISO 3166-1 code such as "FR", not "at most 2 characters"; on the business and on clients."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import Account, StoreProbe
from tests.helpers import assert_rejected
from tests.invoicing_support import BUSINESS, CLIENTS, create_client

EXPECTED = 'must be a two-letter ISO 3166-1 country code, such as "FR"'


@pytest.mark.parametrize("country", ["France", "FRA", "F", "XX"])
async def test_country_not_a_code_says_what_a_code_is(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe, country: str
) -> None:
    buyer = await create_client(client, account)
    for method, url, body in (
        ("PUT", BUSINESS, {"country": country}),
        ("POST", CLIENTS, {"name": "Acme", "country": country}),
        ("PUT", f"{CLIENTS}/{buyer['id']}", {"country": country}),
    ):
        problem = await assert_rejected(
            client,
            store,
            method,
            url,
            status=422,
            fields=["country"],
            headers=account.headers,
            json=body,
        )
        assert [e["message"] for e in problem["errors"]] == [EXPECTED], (method, url)
