"""The credit note's public page `GET /c/{token}` and its PDF, on the real PostgreSQL: in the
client's locale without a key, the same headers as the invoice's page, the same PDF bytes as
the API, HTML 404 pages for unknown or malformed tokens, and the per-address rate limit."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest
from litestar.testing import AsyncTestClient

from fastfaktura.adapters.web.page import ERROR_PAGE_HEADERS
from fastfaktura.application import Invoicing
from tests.api.test_credit_note_documents_api import issued_note
from tests.api.test_credit_notes import CREDIT_NOTES
from tests.api.test_rate_limits import NO_REFILL, app_with, pages
from tests.conftest import Account

HTML = "text/html; charset=utf-8"
REFERS_TO = {
    "fr": "Avoir relatif à la facture {number}",
    "nb": "Kreditnota for faktura {number}",
}


def path_of(note: dict[str, Any]) -> str:
    url = note["public_url"]
    assert re.fullmatch(r"https?://[^/]+/c/[A-Za-z0-9_-]{32}", url), url
    return "/c/" + url.rsplit("/", 1)[-1]


@pytest.mark.parametrize("locale", sorted(REFERS_TO))
async def test_the_page_shows_the_credit_note_in_the_clients_locale_without_a_key(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
    locale: str,
) -> None:
    invoice, note = await issued_note(client, account, invoicing, database_url, locale)
    page = await client.get(path_of(note))
    assert page.status_code == 200, page.text
    assert page.headers["content-type"] == HTML
    for name, value in ERROR_PAGE_HEADERS.items():
        assert page.headers[name] == value, name
    assert f'<html lang="{locale}"' in page.text
    assert REFERS_TO[locale].format(number=invoice["number"]) in page.text
    assert note["number"] in page.text
    assert "Two days billed twice" in page.text
    assert 'href="' + path_of(note).rsplit("/", 1)[-1] + '/pdf"' in page.text
    # The download is the very PDF the API serves.
    pdf = await client.get(path_of(note) + "/pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == f'inline; filename="{note["number"]}.pdf"'
    api = await client.get(f"{CREDIT_NOTES}/{note['id']}/pdf", headers=account.headers)
    assert pdf.content == api.content


@pytest.mark.parametrize(
    "path", ["/c/no-such-token", "/c/no-such-token/pdf", "/c/%00", "/c/a%20b/pdf", "/c/x/y/z"]
)
async def test_unknown_or_malformed_tokens_are_the_html_404_page(
    client: AsyncTestClient[Any], path: str
) -> None:
    response = await client.get(path, headers={"Accept-Language": "fr"})
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == HTML
    assert response.headers["cache-control"] == "no-store"
    assert response.text.startswith("<!DOCTYPE html>")


async def test_an_id_never_opens_the_page(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    _, note = await issued_note(client, account, invoicing, database_url)
    assert (await client.get(f"/c/{note['id']}")).status_code == 404
    assert (await client.get(f"/c/{uuid4()}")).status_code == 404


async def test_the_page_is_limited_per_client_address_with_an_html_429(
    client: AsyncTestClient[Any],
    account: Account,
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    _, note = await issued_note(client, account, invoicing, database_url)
    host = f"198.51.100.{uuid4().int % 250 + 1}"
    async with app_with(database_url, pages(NO_REFILL, 3), client_host=host) as reader:
        assert (await reader.get(path_of(note))).status_code == 200
        assert (await reader.get(path_of(note) + "/pdf")).status_code == 200
        assert (await reader.get("/c/no-such-token")).status_code == 404
        refused = await reader.get(path_of(note))
        assert refused.status_code == 429, refused.text
        assert refused.headers["content-type"].startswith("text/html")
        assert int(refused.headers["Retry-After"]) >= 1
