"""Every endpoint that reads a JSON body refuses one it cannot read the same way (API.md
"Errors"): not JSON (or not UTF-8) is a 400; JSON that is not an object is a 422 naming `body`.
Either way the answer is problem+json, and nothing is stored (no event, no row)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.api.request_targets import (
    NOT_AN_OBJECT,
    NOT_JSON,
    OPTIONAL_BODY,
    TARGETS,
)
from tests.conftest import Account, StoreProbe
from tests.helpers import assert_rejected


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
