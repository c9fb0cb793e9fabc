"""The webhook endpoints API: create (secret shown once), list, get, delete (log kept),
deliveries, retry; validation and the SSRF guard at registration; tenant isolation."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import Account, StoreProbe
from tests.helpers import assert_rejected
from tests.integrations.support import ENDPOINTS, endpoint_body, fixed_resolver, webhook_rows

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def public_dns(client: AsyncTestClient[Any]) -> Iterator[None]:
    """Names that resolve to a public address, or to private ones, for the live checks."""
    client.app.state.webhook_resolver = fixed_resolver(
        {
            "hooks.example.com": ["93.184.216.34"],
            "internal.example.com": ["93.184.216.34", "10.0.0.7"],
            "metadata.example.com": ["169.254.169.254"],
            "localhost": ["127.0.0.1", "::1"],
        }
    )
    yield
    client.app.state.webhook_resolver = None


async def create(client: AsyncTestClient[Any], account: Account, **body: Any) -> dict[str, Any]:
    response = await client.post(ENDPOINTS, headers=account.headers, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_an_endpoint_is_created_listed_read_and_deleted(
    client: AsyncTestClient[Any], account: Account
) -> None:
    created = await create(
        client,
        account,
        url="http://127.0.0.1:9/hooks",
        events=["invoice.paid", "credit_note.issued"],
        description="ERP",
    )
    assert created["secret"].startswith("whsec_")
    assert len(base64.b64decode(created["secret"].removeprefix("whsec_"))) == 24
    assert created["events"] == ["invoice.paid", "credit_note.issued"]
    assert created["status"] == "enabled"
    shown = (await client.get(f"{ENDPOINTS}/{created['id']}", headers=account.headers)).json()
    assert "secret" not in shown
    assert shown == {k: v for k, v in created.items() if k != "secret"}
    listed = (await client.get(ENDPOINTS, headers=account.headers)).json()
    assert listed["total"] == 1
    assert listed["data"] == [shown]

    deleted = await client.delete(f"{ENDPOINTS}/{created['id']}", headers=account.headers)
    assert deleted.status_code == 200
    assert deleted.json() == shown
    gone = await client.get(f"{ENDPOINTS}/{created['id']}", headers=account.headers)
    assert gone.status_code == 404
    assert (await client.get(ENDPOINTS, headers=account.headers)).json()["total"] == 0
    # The delivery log outlives the endpoint.
    log = await client.get(f"{ENDPOINTS}/{created['id']}/deliveries", headers=account.headers)
    assert log.status_code == 200
    assert log.json() == {"data": [], "page": 1, "per_page": 50, "total": 0}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"events": ["*"]}, ["url"]),
        (endpoint_body("http://127.0.0.1/h", []), ["events"]),
        (endpoint_body("http://127.0.0.1/h", ["invoice.payed"]), ["events[0]"]),
        (endpoint_body("http://127.0.0.1/h", ["*", "invoice.paid"]), ["events"]),
        (endpoint_body("http://127.0.0.1/h", ["invoice.paid", "invoice.paid"]), ["events"]),
        (endpoint_body("http://127.0.0.1/h", "invoice.paid"), ["events"]),  # type: ignore[arg-type]
        (endpoint_body("ftp://127.0.0.1/h"), ["url"]),
        (endpoint_body("http://user:pw@127.0.0.1/h"), ["url"]),
        (endpoint_body("http://169.254.169.254/latest/meta-data"), ["url"]),
        (endpoint_body("http://127.0.0.1/h", description="x" * 501), ["description"]),
        (endpoint_body("http://127.0.0.1/h", secret="whsec_mine"), ["secret"]),
        ({"url": 5, "events": [1]}, ["url", "events[0]"]),
    ],
)
async def test_invalid_endpoints_are_422_naming_the_field_and_store_nothing(
    client: AsyncTestClient[Any],
    account: Account,
    store: StoreProbe,
    body: dict[str, Any],
    fields: list[str],
) -> None:
    before = webhook_rows(store.database_url)
    await assert_rejected(
        client,
        store,
        "POST",
        ENDPOINTS,
        status=422,
        fields=fields,
        headers=account.headers,
        json=body,
    )
    assert webhook_rows(store.database_url) == before


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/h",  # not https
        "https://127.0.0.1/h",
        "https://10.1.2.3/h",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/h",
        "https://localhost/h",  # names: checked on what they resolve to
        "https://internal.example.com/h",
        "https://metadata.example.com/h",
        "https://nowhere.example.com/h",  # does not resolve
    ],
)
async def test_live_endpoints_must_be_https_to_public_addresses(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    store: StoreProbe,
    public_dns: None,
    url: str,
) -> None:
    live = new_account("Live AS", mode="live")
    before = webhook_rows(store.database_url)
    await assert_rejected(
        client,
        store,
        "POST",
        ENDPOINTS,
        status=422,
        fields=["url"],
        headers=live.headers,
        json=endpoint_body(url),
    )
    assert webhook_rows(store.database_url) == before


async def test_a_live_endpoint_on_a_public_address_is_taken(
    client: AsyncTestClient[Any], new_account: Callable[..., Account], public_dns: None
) -> None:
    live = new_account("Live AS", mode="live")
    created = await create(client, live, url="https://hooks.example.com/h", events=["*"])
    assert created["url"] == "https://hooks.example.com/h"


async def test_another_business_endpoint_is_404_everywhere(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    owner, stranger = new_account("Owner"), new_account("Stranger")
    theirs = await create(client, owner, url="http://127.0.0.1:9/h", events=["*"])
    path = f"{ENDPOINTS}/{theirs['id']}"
    for method, url in [
        ("GET", path),
        ("DELETE", path),
        ("GET", f"{path}/deliveries"),
        ("POST", f"{path}/deliveries/{UNKNOWN}/retry"),
        ("GET", f"{ENDPOINTS}/{UNKNOWN}"),
        ("GET", f"{ENDPOINTS}/not-a-uuid"),
    ]:
        response = await client.request(method, url, headers=stranger.headers)
        assert response.status_code == 404, (method, url, response.text)
    assert (await client.get(ENDPOINTS, headers=stranger.headers)).json()["total"] == 0
    # Still there for its owner.
    assert (await client.get(path, headers=owner.headers)).status_code == 200


async def test_retrying_an_event_never_delivered_there_is_404(
    client: AsyncTestClient[Any], account: Account
) -> None:
    mine = await create(client, account, url="http://127.0.0.1:9/h", events=["*"])
    response = await client.post(
        f"{ENDPOINTS}/{mine['id']}/deliveries/{UNKNOWN}/retry", headers=account.headers
    )
    assert response.status_code == 404


async def test_unknown_query_parameters_are_422(
    client: AsyncTestClient[Any], account: Account
) -> None:
    mine = await create(client, account, url="http://127.0.0.1:9/h", events=["*"])
    for url in [
        f"{ENDPOINTS}?limit=5",
        f"{ENDPOINTS}/{mine['id']}?expand=secret",
        f"{ENDPOINTS}/{mine['id']}/deliveries?status=failed",
        f"{ENDPOINTS}?per_page=101",
    ]:
        response = await client.get(url, headers=account.headers)
        assert response.status_code == 422, (url, response.text)
