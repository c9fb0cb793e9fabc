"""The public pages answer HTML in every case, errors included (API.md "Limits and
availability"): a malformed token is the 404 page, never a JSON 500; any error under /i/ is an
HTML page of its status (429 and 503 with Retry-After), never problem+json."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from fastfaktura.adapters.web.labels import ERROR_PAGE_LABELS, LOCALES
from fastfaktura.adapters.web.page import public_error_page

HTML = "text/html; charset=utf-8"


def assert_page(response: Any, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == HTML, response.headers
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.text.startswith("<!DOCTYPE html>")
    assert words in response.text, response.text


@pytest.mark.parametrize(
    "path",
    [
        "/i/%00",
        "/i/%00/pdf",
        "/i/abc%00def",
        "/i/abc%00def/pdf",
        "/i/%C3%A9t%C3%A9",  # not a character a token has
        "/i/a%20b/pdf",
        "/i/%25",
    ],
)
async def test_a_malformed_token_is_the_404_page_not_a_json_500(
    client: AsyncTestClient[Any], path: str
) -> None:
    response = await client.get(path, headers={"Accept-Language": "sv"})
    assert_page(response, 404, "Fakturan hittades inte")


async def test_other_errors_under_i_are_html_pages_of_their_status(
    client: AsyncTestClient[Any],
) -> None:
    # No such route under /i/: the 404 page, not problem+json.
    assert_page(await client.get("/i/abc/def/ghi"), 404, "Invoice not found")
    # A method the page does not take: an HTML page of that status.
    assert_page(await client.post("/i/abc"), 405, "Something went wrong")
    # The API keeps answering problem+json.
    api = await client.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("status", "retry_after", "words"),
    [
        (503, 5, "Service temporarily unavailable"),
        (429, 2, "Too many requests"),
        (404, None, "Invoice not found"),
        (500, None, "Something went wrong"),
    ],
)
def test_public_error_page_is_html_of_its_status_with_retry_after(
    status: int, retry_after: int | None, words: str
) -> None:
    response = public_error_page(status, retry_after, "en-GB,en;q=0.9")
    assert response.status_code == status
    assert response.media_type == "text/html"
    body = response.content
    assert isinstance(body, str)
    assert words in body
    assert response.headers.get("Retry-After") == (
        None if retry_after is None else str(retry_after)
    )
    assert response.headers["Cache-Control"] == "no-store"


def test_every_locale_has_every_error_page() -> None:
    assert set(ERROR_PAGE_LABELS) == set(LOCALES)
    for locale in LOCALES:
        assert ERROR_PAGE_LABELS[locale].keys() == ERROR_PAGE_LABELS["en"].keys(), locale
        for title, text in ERROR_PAGE_LABELS[locale].values():
            assert title.strip(), locale
            assert text.strip(), locale
    french = public_error_page(503, 5, "fr").content
    assert isinstance(french, str)
    assert "Service momentanément indisponible" in french
    assert '<html lang="fr">' in french
