"""/api/v1/clients: create, read, merge, archive, search, pages; refusals leave no trace."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import Account, StoreProbe
from tests.helpers import assert_rejected

CLIENTS = "/api/v1/clients"
CLIENT_FIELDS = {
    "id",
    "name",
    "email",
    "phone",
    "address",
    "country",
    "locale",
    "external_id",
    "tags",
    "vat_number",
    "company_id",
    "archived_at",
    "created_at",
    "updated_at",
}
FULL_CLIENT: dict[str, Any] = {
    "name": "Acme SARL",
    "email": "billing@acme.example",
    "phone": "+33612345678",
    "address": "2 avenue Foch\n75016 Paris",
    "country": "FR",
    "locale": "fr",
    "external_id": "crm-0001",
    "tags": ["vip", "paris"],
    "vat_number": "FR40303265045",
    "company_id": "303265045",
}


async def create(client: AsyncTestClient[Any], account: Account, **body: Any) -> dict[str, Any]:
    response = await client.post(CLIENTS, headers=account.headers, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def fetch(client: AsyncTestClient[Any], account: Account, client_id: str) -> dict[str, Any]:
    response = await client.get(f"{CLIENTS}/{client_id}", headers=account.headers)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def listing(client: AsyncTestClient[Any], account: Account, query: str = "") -> Any:
    response = await client.get(f"{CLIENTS}{query}", headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


def names(page: dict[str, Any]) -> list[str]:
    return [item["name"] for item in page["data"]]


# -- create and read ------------------------------------------------------------------------


async def test_create_answers_201_with_location_of_the_new_client(
    client: AsyncTestClient[Any], account: Account
) -> None:
    response = await client.post(CLIENTS, headers=account.headers, json=FULL_CLIENT)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == CLIENT_FIELDS
    UUID(body["id"])
    assert response.headers["location"] == f"/api/v1/clients/{body['id']}"
    for field, value in FULL_CLIENT.items():
        assert body[field] == value, field
    assert body["archived_at"] is None
    assert body["created_at"] == body["updated_at"]
    assert body["created_at"].endswith("Z")
    # Read-your-writes: the Location answers at once, with the same representation.
    located = await client.get(response.headers["location"], headers=account.headers)
    assert located.status_code == 200
    assert located.json() == body


async def test_create_with_only_a_name_fills_the_defaults(
    client: AsyncTestClient[Any], account: Account
) -> None:
    body = await create(client, account, name="Bare Minimum")
    assert body["name"] == "Bare Minimum"
    assert body["tags"] == []
    assert body["locale"] == "en"  # the business's default
    for field in ("email", "phone", "address", "country", "external_id", "vat_number"):
        assert body[field] is None, field


async def test_client_locale_defaults_to_the_business_locale(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    norwegian = new_account("Fjord AS", locale="nb")
    assert (await create(client, norwegian, name="Default"))["locale"] == "nb"
    assert (await create(client, norwegian, name="Chosen", locale="sv"))["locale"] == "sv"
    # The default follows the business's current locale, for new clients only.
    response = await client.put(
        "/api/v1/business", headers=norwegian.headers, json={"locale": "fr"}
    )
    assert response.status_code == 200
    later = await create(client, norwegian, name="Later")
    assert later["locale"] == "fr"
    page = await listing(client, norwegian)
    assert {c["name"]: c["locale"] for c in page["data"]} == {
        "Chosen": "sv",
        "Default": "nb",
        "Later": "fr",
    }


async def test_create_normalises_text_and_tags(
    client: AsyncTestClient[Any], account: Account
) -> None:
    body = await create(
        client,
        account,
        name="  Trimmed  ",
        country="se",
        tags=[" a ", "b", "a"],
        vat_number="se 5560360793 01",
    )
    assert body["name"] == "Trimmed"
    assert body["country"] == "SE"
    assert body["tags"] == ["a", "b"]
    assert body["vat_number"] == "SE556036079301"


# -- validation -----------------------------------------------------------------------------

INVALID_CREATE: list[tuple[str, Any, list[str]]] = [
    ("missing name", {"email": "a@example.com"}, ["name"]),
    ("blank name", {"name": "   "}, ["name"]),
    ("empty name", {"name": ""}, ["name"]),
    ("null name", {"name": None}, ["name"]),
    ("name is a number", {"name": 5}, ["name"]),
    ("name too long", {"name": "x" * 201}, ["name"]),
    ("name with NUL", {"name": "a\x00b"}, ["name"]),
    ("bad email", {"name": "A", "email": "not-an-email"}, ["email"]),
    ("email without domain dot", {"name": "A", "email": "a@localhost"}, ["email"]),
    ("phone not E.164", {"name": "A", "phone": "0612345678"}, ["phone"]),
    ("phone with spaces", {"name": "A", "phone": "+33 6 12 34 56 78"}, ["phone"]),
    ("phone too long", {"name": "A", "phone": "+1234567890123456"}, ["phone"]),
    ("phone is a number", {"name": "A", "phone": 33612345678}, ["phone"]),
    ("unknown locale", {"name": "A", "locale": "de"}, ["locale"]),
    ("null locale", {"name": "A", "locale": None}, ["locale"]),
    ("bad country code", {"name": "A", "country": "XX"}, ["country"]),
    ("alpha-3 country", {"name": "A", "country": "FRA"}, ["country"]),
    ("unknown field", {"name": "A", "colour": "blue"}, ["colour"]),
    ("read-only id", {"name": "A", "id": "00000000-0000-0000-0000-000000000001"}, ["id"]),
    ("read-only archived_at", {"name": "A", "archived_at": None}, ["archived_at"]),
    ("read-only created_at", {"name": "A", "created_at": "2020-01-01T00:00:00Z"}, ["created_at"]),
    ("tags not an array", {"name": "A", "tags": "x"}, ["tags"]),
    ("tags null", {"name": "A", "tags": None}, ["tags"]),
    ("tag not a string", {"name": "A", "tags": [1]}, ["tags[0]"]),
    ("second tag blank", {"name": "A", "tags": ["ok", " "]}, ["tags[1]"]),
    ("tag with NUL", {"name": "A", "tags": ["a\x00"]}, ["tags[0]"]),
    ("too many tags", {"name": "A", "tags": [f"t{i}" for i in range(51)]}, ["tags"]),
    ("external_id not a string", {"name": "A", "external_id": 7}, ["external_id"]),
    ("address is an object", {"name": "A", "address": {"street": "x"}}, ["address"]),
]


@pytest.mark.parametrize(
    ("body", "fields"),
    [(b, f) for _, b, f in INVALID_CREATE],
    ids=[case for case, _, _ in INVALID_CREATE],
)
async def test_create_rejects_invalid_input_naming_the_field_and_leaves_no_trace(
    client: AsyncTestClient[Any],
    account: Account,
    store: StoreProbe,
    body: dict[str, Any],
    fields: list[str],
) -> None:
    await assert_rejected(
        client,
        store,
        "POST",
        CLIENTS,
        status=422,
        fields=fields,
        headers=account.headers,
        json=body,
    )
    assert (await listing(client, account, "?archived=true"))["total"] == 0


async def test_create_lists_every_invalid_field_at_once(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    body = {
        "name": "",
        "email": "x",
        "phone": "12",
        "locale": "xx",
        "country": "ZZ",
        "tags": [1],
        "external_id": 3,
        "surprise": True,
        "id": "abc",
    }
    await assert_rejected(
        client,
        store,
        "POST",
        CLIENTS,
        status=422,
        fields=[
            "name",
            "email",
            "phone",
            "locale",
            "country",
            "tags[0]",
            "external_id",
            "surprise",
            "id",
        ],
        headers=account.headers,
        json=body,
    )
    await assert_rejected(
        client,
        store,
        "POST",
        CLIENTS,
        status=422,
        fields=["name", "email"],
        headers=account.headers,
        json={"email": "nope"},
    )


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": ""}, ["name"]),
        ({"name": None}, ["name"]),
        ({"email": "nope", "phone": "123"}, ["email", "phone"]),
        ({"tags": None}, ["tags"]),
        ({"tags": "x"}, ["tags"]),
        ({"id": "x", "updated_at": "y", "nickname": "z"}, ["id", "updated_at", "nickname"]),
        ({"locale": "en-GB"}, ["locale"]),
    ],
)
async def test_update_rejects_invalid_input_naming_the_field_and_leaves_no_trace(
    client: AsyncTestClient[Any],
    account: Account,
    store: StoreProbe,
    body: dict[str, Any],
    fields: list[str],
) -> None:
    created = await create(client, account, **FULL_CLIENT)
    url = f"{CLIENTS}/{created['id']}"
    await assert_rejected(
        client, store, "PUT", url, status=422, fields=fields, headers=account.headers, json=body
    )
    await assert_rejected(
        client,
        store,
        "PUT",
        url,
        status=400,
        fields=[],
        headers=account.headers,
        content=b"{oops",
    )
    await assert_rejected(
        client,
        store,
        "PUT",
        url,
        status=422,
        fields=["body"],
        headers=account.headers,
        json=["name"],
    )
    assert await fetch(client, account, created["id"]) == created


# -- external ids -----------------------------------------------------------------------------


async def test_duplicate_live_external_id_conflicts_until_its_holder_is_archived(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    holder = await create(client, account, name="Holder", external_id="ext-42")
    problem = await assert_rejected(
        client,
        store,
        "POST",
        CLIENTS,
        status=409,
        fields=["external_id"],
        headers=account.headers,
        json={"name": "Second", "external_id": "ext-42"},
    )
    assert "ext-42" in problem["detail"]
    other = await create(client, account, name="Other", external_id="ext-43")
    await assert_rejected(
        client,
        store,
        "PUT",
        f"{CLIENTS}/{other['id']}",
        status=409,
        fields=["external_id"],
        headers=account.headers,
        json={"external_id": "ext-42", "name": "Renamed"},
    )
    assert await fetch(client, account, other["id"]) == other  # the rename did not happen either

    archived = await client.delete(f"{CLIENTS}/{holder['id']}", headers=account.headers)
    assert archived.status_code == 200
    taker = await create(client, account, name="Taker", external_id="ext-42")
    assert taker["external_id"] == "ext-42"
    # The archived holder keeps its external id on record.
    assert (await fetch(client, account, holder["id"]))["external_id"] == "ext-42"


async def test_external_id_is_freed_by_changing_or_clearing_it(
    client: AsyncTestClient[Any], account: Account
) -> None:
    first = await create(client, account, name="First", external_id="a")
    second = await create(client, account, name="Second", external_id="b")
    moved = await client.put(
        f"{CLIENTS}/{first['id']}", headers=account.headers, json={"external_id": "c"}
    )
    assert moved.status_code == 200
    cleared = await client.put(
        f"{CLIENTS}/{second['id']}", headers=account.headers, json={"external_id": None}
    )
    assert cleared.json()["external_id"] is None
    assert (await create(client, account, name="Gets a", external_id="a"))["external_id"] == "a"
    assert (await create(client, account, name="Gets b", external_id="b"))["external_id"] == "b"
    again = await client.post(
        CLIENTS, headers=account.headers, json={"name": "X", "external_id": "c"}
    )
    assert again.status_code == 409


async def test_keeping_its_own_external_id_is_not_a_conflict(
    client: AsyncTestClient[Any], account: Account
) -> None:
    created = await create(client, account, name="Same", external_id="mine")
    response = await client.put(
        f"{CLIENTS}/{created['id']}",
        headers=account.headers,
        json={"external_id": "mine", "name": "Same Renamed"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["external_id"] == "mine"


async def test_external_ids_are_unique_per_business_only(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    one, two = new_account("One"), new_account("Two")
    assert (await create(client, one, name="A", external_id="shared"))["external_id"] == "shared"
    assert (await create(client, two, name="B", external_id="shared"))["external_id"] == "shared"


# -- update ---------------------------------------------------------------------------------


async def test_update_merges_and_null_clears_and_get_shows_it_at_once(
    client: AsyncTestClient[Any], account: Account
) -> None:
    created = await create(client, account, **FULL_CLIENT)
    url = f"{CLIENTS}/{created['id']}"
    response = await client.put(
        url, headers=account.headers, json={"email": "new@acme.example", "phone": None}
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    expected = {**FULL_CLIENT, "email": "new@acme.example", "phone": None}
    assert {field: updated[field] for field in FULL_CLIENT} == expected
    assert updated["id"] == created["id"]
    assert updated["created_at"] == created["created_at"]
    assert datetime.fromisoformat(updated["updated_at"]) > datetime.fromisoformat(
        created["updated_at"]
    )
    assert await fetch(client, account, created["id"]) == updated
    cleared = await client.put(
        url,
        headers=account.headers,
        json={"address": None, "country": None, "vat_number": None, "tags": []},
    )
    body = cleared.json()
    assert (body["address"], body["country"], body["vat_number"], body["tags"]) == (
        None,
        None,
        None,
        [],
    )
    assert body["name"] == FULL_CLIENT["name"]
    assert await fetch(client, account, created["id"]) == body


async def test_update_that_changes_nothing_records_no_event(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    created = await create(client, account, name="Stable", email="s@example.com")
    before = store.snapshot()
    response = await client.put(
        f"{CLIENTS}/{created['id']}",
        headers=account.headers,
        json={"name": "Stable", "email": "s@example.com"},
    )
    assert response.status_code == 200
    assert response.json() == created
    assert store.snapshot() == before


# -- archive --------------------------------------------------------------------------------


async def test_archive_keeps_the_client_readable_but_out_of_lists_and_frozen(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    kept = await create(client, account, name="Kept")
    gone = await create(client, account, name="Gone", email="gone@example.com")
    url = f"{CLIENTS}/{gone['id']}"

    response = await client.delete(url, headers=account.headers)
    assert response.status_code == 200, response.text
    archived = response.json()
    assert archived["id"] == gone["id"]
    assert archived["archived_at"] is not None
    assert datetime.fromisoformat(archived["archived_at"]) >= datetime.fromisoformat(
        gone["created_at"]
    )
    assert await fetch(client, account, gone["id"]) == archived

    assert names(await listing(client, account)) == ["Kept"]
    assert (await listing(client, account))["total"] == 1
    assert names(await listing(client, account, "?q=gone")) == []
    with_archived = await listing(client, account, "?archived=true")
    assert names(with_archived) == ["Gone", "Kept"]
    assert with_archived["total"] == 2
    assert names(await listing(client, account, "?archived=true&q=gone")) == ["Gone"]
    assert names(await listing(client, account, "?archived=false")) == ["Kept"]

    problem = await assert_rejected(
        client, store, "PUT", url, status=409, headers=account.headers, json={"name": "Back"}
    )
    assert "archived" in problem["detail"]

    # A second DELETE is harmless: same answer, nothing recorded.
    settled = store.snapshot()
    again = await client.delete(url, headers=account.headers)
    assert again.status_code == 200
    assert again.json() == archived
    assert store.snapshot() == settled
    assert (await fetch(client, account, kept["id"]))["archived_at"] is None


# -- lists ----------------------------------------------------------------------------------


async def test_list_is_an_envelope_sorted_by_name_and_paged(
    client: AsyncTestClient[Any], account: Account
) -> None:
    for name in ["delta", "Bravo", "alpha", "Echo", "charlie"]:
        await create(client, account, name=name)
    first = await listing(client, account)
    assert set(first) == {"data", "page", "per_page", "total"}
    assert (first["page"], first["per_page"], first["total"]) == (1, 50, 5)
    assert names(first) == ["alpha", "Bravo", "charlie", "delta", "Echo"]
    assert all(set(item) == CLIENT_FIELDS for item in first["data"])

    pages = [await listing(client, account, f"?per_page=2&page={n}") for n in (1, 2, 3, 4)]
    assert [names(p) for p in pages] == [["alpha", "Bravo"], ["charlie", "delta"], ["Echo"], []]
    assert [(p["page"], p["per_page"], p["total"]) for p in pages] == [
        (1, 2, 5),
        (2, 2, 5),
        (3, 2, 5),
        (4, 2, 5),
    ]
    edge = await listing(client, account, "?per_page=100&page=1")
    assert (edge["per_page"], edge["total"], len(edge["data"])) == (100, 5, 5)
    single = await listing(client, account, "?per_page=1")
    assert names(single) == ["alpha"]


async def test_clients_with_the_same_name_page_stably(
    client: AsyncTestClient[Any], account: Account
) -> None:
    ids = {(await create(client, account, name="Twin"))["id"] for _ in range(5)}
    seen = []
    for page in range(1, 4):
        seen += [
            c["id"] for c in (await listing(client, account, f"?per_page=2&page={page}"))["data"]
        ]
    assert sorted(seen) == sorted(ids)


async def test_search_matches_name_email_or_phone_case_insensitively(
    client: AsyncTestClient[Any], account: Account
) -> None:
    await create(client, account, name="Nordic Fisk AS", email="post@fisk.example")
    await create(client, account, name="Boulangerie", email="PAIN@boulange.example")
    await create(client, account, name="Telefon AB", phone="+46701234567")
    await create(client, account, name="100% Pure", email="pure@pure.example")
    await create(client, account, name="Under_score")

    assert names(await listing(client, account, "?q=FISK")) == ["Nordic Fisk AS"]
    assert names(await listing(client, account, "?q=pain%40")) == ["Boulangerie"]
    assert names(await listing(client, account, "?q=4670123")) == ["Telefon AB"]
    assert names(await listing(client, account, "?q=%2B46")) == ["Telefon AB"]
    assert names(await listing(client, account, "?q=.example")) == [
        "100% Pure",
        "Boulangerie",
        "Nordic Fisk AS",
    ]
    # Wildcards are plain characters: a substring, not a LIKE pattern.
    assert names(await listing(client, account, "?q=%25")) == ["100% Pure"]
    assert names(await listing(client, account, "?q=_")) == ["Under_score"]
    assert names(await listing(client, account, "?q=nomatch")) == []
    assert (await listing(client, account, "?q=nomatch"))["total"] == 0
    # A blank query is no filter.
    assert (await listing(client, account, "?q=%20%20"))["total"] == 5
    found = await listing(client, account, "?q=e&per_page=2")
    assert found["total"] == 5
    assert len(found["data"]) == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page=1.5", "page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("per_page=abc", "per_page"),
        ("archived=maybe", "archived"),
        ("q=" + "x" * 201, "q"),
        ("q=a%00b", "q"),
    ],
)
async def test_list_rejects_out_of_range_query_parameters_naming_them(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe, query: str, field: str
) -> None:
    await assert_rejected(
        client,
        store,
        "GET",
        f"{CLIENTS}?{query}",
        status=422,
        fields=[field],
        headers=account.headers,
    )


async def test_list_reports_every_invalid_query_parameter(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    await assert_rejected(
        client,
        store,
        "GET",
        f"{CLIENTS}?page=0&per_page=500",
        status=422,
        fields=["page", "per_page"],
        headers=account.headers,
    )


# -- unknown ids ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize(
    "client_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid", "12345", "%20"]
)
async def test_unknown_client_id_answers_404_problem(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe, method: str, client_id: str
) -> None:
    body = {"name": "x"} if method == "PUT" else None
    problem = await assert_rejected(
        client,
        store,
        method,
        f"{CLIENTS}/{client_id}",
        status=404,
        headers=account.headers,
        json=body,
    )
    assert problem["detail"] == "No such client."
