from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import Account


async def test_business_profile_is_served_to_its_key(
    client: AsyncTestClient[Any], account: Account
) -> None:
    response = await client.get("/api/v1/business", headers=account.headers)
    assert response.status_code == 200
    assert response.json()["id"] == str(account.business_id)
