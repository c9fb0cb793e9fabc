"""GET /api/v1/invoices filters and GET /api/v1/invoices/export (API.md "Filters"): each filter
alone and combined, paging, tenancy, the 422s, and the CSV read back with the csv module."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import Account, StoreProbe
from tests.helpers import assert_rejected
from tests.invoicing_support import INVOICES, create_client, create_invoice, get_json, today_utc

EXPORT = f"{INVOICES}/export"


async def _ids(client: AsyncTestClient[Any], account: Account, **query: Any) -> list[str]:
    page = await get_json(client, account, f"{INVOICES}?{urlencode({'per_page': 100, **query})}")
    ids = [invoice["id"] for invoice in page["data"]]
    assert page["total"] == len(ids)
    return ids


@pytest.fixture
async def book(client: AsyncTestClient[Any], account: Account) -> dict[str, Any]:
    """Four invoices of two clients with different due dates, and one of another business."""
    today = today_utc()
    acme = await create_client(client, account, "Acme 100% _Tools_")
    bolt = await create_client(client, account, "=Bolt GmbH")
    made = [
        await create_invoice(client, account, acme["id"], due_date=str(today + timedelta(days=d)))
        for d in (0, 10, 20)
    ]
    made.append(
        await create_invoice(client, account, bolt["id"], due_date=str(today + timedelta(days=30)))
    )
    return {"acme": acme, "bolt": bolt, "invoices": made, "today": today}


def _newest_first(invoices: list[dict[str, Any]]) -> list[str]:
    return [invoice["id"] for invoice in reversed(invoices)]


async def test_each_filter_alone(
    client: AsyncTestClient[Any], account: Account, book: dict[str, Any]
) -> None:
    a0, a10, a20, b30 = book["invoices"]
    today = book["today"]
    assert await _ids(client, account, client_id=book["acme"]["id"]) == _newest_first(
        [a0, a10, a20]
    )
    assert await _ids(client, account, number=a10["number"]) == [a10["id"]]
    assert await _ids(client, account, number=a10["number"][:-1]) == []  # exact, not a prefix
    # q: a substring of the number, or of the client's name, in any case.
    assert await _ids(client, account, q=a20["number"][-5:]) == [a20["id"]]
    assert await _ids(client, account, q="bolt gmbh") == [b30["id"]]
    assert await _ids(client, account, q="ACME") == _newest_first([a0, a10, a20])
    # % and _ are plain characters, not LIKE wildcards.
    assert await _ids(client, account, q="100% _t") == _newest_first([a0, a10, a20])
    assert await _ids(client, account, q="%") == _newest_first([a0, a10, a20])
    assert await _ids(client, account, q="0_0") == []
    every = _newest_first(book["invoices"])
    assert await _ids(client, account, issue_date_from=str(today)) == every
    assert await _ids(client, account, issue_date_to=str(today)) == every
    assert await _ids(client, account, issue_date_from=str(today + timedelta(days=1))) == []
    assert await _ids(client, account, issue_date_to=str(today - timedelta(days=1))) == []
    # Inclusive at both ends.
    assert await _ids(client, account, due_date_from=str(today + timedelta(days=10))) == (
        _newest_first([a10, a20, b30])
    )
    assert await _ids(client, account, due_date_to=str(today + timedelta(days=20))) == (
        _newest_first([a0, a10, a20])
    )


async def test_filters_combine_with_status_and_paging(
    client: AsyncTestClient[Any], account: Account, book: dict[str, Any]
) -> None:
    a0, a10, a20, b30 = book["invoices"]
    today = book["today"]
    window = {
        "due_date_from": str(today + timedelta(days=10)),
        "due_date_to": str(today + timedelta(days=30)),
    }
    assert await _ids(client, account, **window) == _newest_first([a10, a20, b30])
    assert await _ids(client, account, client_id=book["acme"]["id"], **window) == (
        _newest_first([a10, a20])
    )
    assert await _ids(client, account, q="acme", status="draft", **window) == (
        _newest_first([a10, a20])
    )
    assert await _ids(client, account, q="acme", status="sent", **window) == []
    query = urlencode({"client_id": book["acme"]["id"], "per_page": 2, "page": 2})
    second = await get_json(client, account, f"{INVOICES}?{query}")
    assert ([i["id"] for i in second["data"]], second["total"]) == ([a0["id"]], 3)


async def test_filters_never_reach_another_business(
    client: AsyncTestClient[Any],
    account: Account,
    new_account: Callable[..., Account],
    book: dict[str, Any],
) -> None:
    other = new_account("Other Business")
    a0 = book["invoices"][0]
    assert await _ids(client, other, client_id=book["acme"]["id"]) == []
    assert await _ids(client, other, number=a0["number"]) == []
    assert await _ids(client, other, q="acme") == []
    response = await client.get(f"{EXPORT}?format=csv", headers=other.headers)
    assert response.status_code == 200
    assert len(list(csv.reader(io.StringIO(response.text)))) == 1  # the header row only


BAD_QUERIES = [
    ("client_id=nope", ["client_id"]),
    ("client_id=", ["client_id"]),
    ("number=", ["number"]),
    ("number=%20%20", ["number"]),
    ("q=", ["q"]),
    ("q=a%00b", ["q"]),
    ("q=" + "x" * 201, ["q"]),
    ("issue_date_from=2026-13-01", ["issue_date_from"]),
    ("issue_date_to=yesterday", ["issue_date_to"]),
    ("due_date_from=2026-1-1", ["due_date_from"]),
    ("due_date_to=2026-02-30", ["due_date_to"]),
    ("due_date_from=2026-03-02&due_date_to=2026-03-01", ["due_date_from"]),
    ("issue_date_from=2026-03-02&issue_date_to=2026-03-01", ["issue_date_from"]),
    ("status=nope&client_id=x&q=", ["client_id", "q", "status"]),
    ("clientid=" + str(UUID(int=7)), ["clientid"]),  # fixed: the same test ids in every run
    ("number=a&number=b", ["number"]),
]


@pytest.mark.parametrize(("query", "fields"), BAD_QUERIES)
@pytest.mark.parametrize("path", [INVOICES, EXPORT])
async def test_bad_filters_answer_422_naming_them(
    client: AsyncTestClient[Any],
    account: Account,
    store: StoreProbe,
    path: str,
    query: str,
    fields: list[str],
) -> None:
    if path == EXPORT:
        query += "&format=csv"
    await assert_rejected(
        client, store, "GET", f"{path}?{query}", status=422, fields=fields, headers=account.headers
    )


@pytest.mark.parametrize("query", ["", "format=", "format=xlsx", "format=CSV", "format=json"])
async def test_export_needs_a_known_format(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe, query: str
) -> None:
    await assert_rejected(
        client,
        store,
        "GET",
        f"{EXPORT}?{query}",
        status=422,
        fields=["format"],
        headers=account.headers,
    )


async def test_export_is_the_list_as_csv(
    client: AsyncTestClient[Any], account: Account, book: dict[str, Any]
) -> None:
    response = await client.get(
        f"{EXPORT}?format=csv&client_id={book['acme']['id']}", headers=account.headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="invoices.csv"'
    assert response.content.endswith(b"\r\n")
    header, *rows = list(csv.reader(io.StringIO(response.text, newline="")))
    listed = await get_json(client, account, f"{INVOICES}?client_id={book['acme']['id']}")
    expected_keys = [k for k in header if k != "client_name"]
    assert [row[header.index("id")] for row in rows] == [i["id"] for i in listed["data"]]
    for row, invoice in zip(rows, listed["data"], strict=True):
        cells = dict(zip(header, row, strict=True))
        assert cells["client_name"] == invoice["buyer"]["name"]
        for key in expected_keys:
            value = invoice[key]
            if key == "created_at":
                assert cells[key][:19] == value[:19].replace("Z", "")
            else:
                assert cells[key] == str(value), key


async def test_export_cells_cannot_run_as_formulas(
    client: AsyncTestClient[Any], account: Account
) -> None:
    names = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", 'Quote " and, comma\nline']
    for name in names:
        buyer = await create_client(client, account, name)
        await create_invoice(client, account, buyer["id"])
    response = await client.get(f"{EXPORT}?format=csv", headers=account.headers)
    header, *rows = list(csv.reader(io.StringIO(response.text, newline="")))
    shown = [row[header.index("client_name")] for row in rows]
    assert shown == [
        'Quote " and, comma\nline',
        "'@SUM(A1)",
        "'-2",
        "'+1",
        '\'=HYPERLINK("http://x","y")',
    ]


async def test_export_streams_past_one_batch(
    client: AsyncTestClient[Any], account: Account, database_url: str
) -> None:
    """More rows than a batch (500): the keyset pagination must neither skip nor repeat one."""
    import psycopg

    buyer = await create_client(client, account)
    template = await create_invoice(client, account, buyer["id"])
    # Copies of one row, with created_at ties, straight into the read model: the keyset must
    # order them by id too.
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO rm_invoices SELECT (r).* FROM ("
            " SELECT jsonb_populate_record(t, jsonb_build_object("
            "  'id', gen_random_uuid(), 'public_token', md5(random()::text) || g,"
            "  'created_at', t.created_at - (g / 3) * interval '1 second')) AS r"
            " FROM rm_invoices t, generate_series(1, 1100) g WHERE t.id = %s) s",
            (template["id"],),
        )
    try:
        response = await client.get(f"{EXPORT}?format=csv", headers=account.headers)
        rows = list(csv.reader(io.StringIO(response.text, newline="")))[1:]
        ids = [row[0] for row in rows]
        assert len(ids) == 1101 == len(set(ids))
        with psycopg.connect(database_url) as conn:
            expected = [
                str(r[0])
                for r in conn.execute(
                    "SELECT id FROM rm_invoices WHERE business_id = %s"
                    " ORDER BY created_at DESC, id DESC",
                    (account.business_id,),
                )
            ]
        assert ids == expected
    finally:
        with psycopg.connect(database_url) as conn:
            conn.execute(
                "DELETE FROM rm_invoices WHERE business_id = %s AND id <> %s",
                (account.business_id, template["id"]),
            )


async def test_export_path_is_not_an_invoice_id(
    client: AsyncTestClient[Any], account: Account
) -> None:
    """/invoices/export is the export, never `GET /invoices/{id}` with id "export"."""
    response = await client.get(f"{EXPORT}?format=csv", headers=account.headers)
    assert response.status_code == 200
    assert response.text.startswith("id,number,status,")
    unauthenticated = await client.get(f"{EXPORT}?format=csv")
    assert unauthenticated.status_code == 401
