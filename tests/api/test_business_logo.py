"""`PUT|GET|DELETE /api/v1/business/logo` (issue 17) through the whole app: the stored image is
the re-encoded one (pixels only), changes are events of the business (digest, never bytes),
bad bodies are 413/422 problems that leave nothing behind, and one business's logo never
shows on another's documents."""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Callable
from typing import Any

import psycopg
import pypdf
import pytest
from litestar.testing import AsyncTestClient
from PIL import Image, ImageChops, PngImagePlugin

from fastfaktura.adapters.logo_image import MAX_LOGO_BYTES
from fastfaktura.application import Invoicing
from tests.conftest import Account, StoreProbe
from tests.helpers import assert_problem, assert_rejected, problem_fields
from tests.invoicing_support import INVOICES, get_json, invoice_for

LOGO = "/api/v1/business/logo"
SECRET = "Exif secret: GPS 59.91 N 10.75 E"


def png(colour: tuple[int, int, int] = (30, 60, 200), size: tuple[int, int] = (64, 20)) -> bytes:
    image = Image.new("RGB", size, colour)
    image.putpixel((0, 0), (255, 255, 0))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SECRET)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


async def put_logo(
    client: AsyncTestClient[Any], account: Account, body: bytes, content_type: str = "image/png"
) -> Any:
    return await client.put(
        LOGO, content=body, headers={**account.headers, "Content-Type": content_type}
    )


async def business_events(client: AsyncTestClient[Any], account: Account) -> list[dict[str, Any]]:
    feed = (await get_json(client, account, "/api/v1/events?limit=500"))["data"]
    return [event for event in feed if event["object"] == "business"]


def logo_rows(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM business_logos").fetchone()
    assert row is not None
    return int(row[0])


async def test_a_logo_is_stored_re_encoded_recorded_by_digest_and_removed(
    client: AsyncTestClient[Any], account: Account
) -> None:
    upload = png()
    response = await put_logo(client, account, upload)
    assert response.status_code == 200, response.text
    logo = response.json()
    assert logo["content_type"] == "image/png"
    assert (logo["width"], logo["height"]) == (64, 20)

    stored = await client.get(LOGO, headers=account.headers)
    assert stored.status_code == 200
    assert stored.headers["content-type"] == "image/png"
    # Only pixels: the upload's text chunk is gone, the pixels are the same.
    assert SECRET.encode() not in stored.content
    assert SECRET.encode() in upload
    assert hashlib.sha256(stored.content).hexdigest() == logo["sha256"]
    with Image.open(io.BytesIO(stored.content)) as kept, Image.open(io.BytesIO(upload)) as sent:
        assert not {k for k in kept.info if k != "dpi"}, kept.info
        assert ImageChops.difference(kept.convert("RGB"), sent.convert("RGB")).getbbox() is None

    # The audit sees it: an event of the business, with the digest and never the bytes.
    changed = [e for e in await business_events(client, account) if "logo" in e["type"]]
    assert [e["type"] for e in changed] == ["business.logo_changed"]
    assert changed[0]["data"]["sha256"] == logo["sha256"]
    assert len(str(changed[0]["data"])) < 500

    # The same image again changes nothing and records nothing.
    again = await put_logo(client, account, upload)
    assert again.status_code == 200
    assert again.json() == logo
    assert len([e for e in await business_events(client, account) if "logo" in e["type"]]) == 1

    removed = await client.delete(LOGO, headers=account.headers)
    assert removed.status_code == 204
    assert removed.content == b""
    assert_problem(await client.get(LOGO, headers=account.headers), 404)
    # Removing no logo is 204 as well, and records nothing more.
    assert (await client.delete(LOGO, headers=account.headers)).status_code == 204
    types = [e["type"] for e in await business_events(client, account) if "logo" in e["type"]]
    assert types == ["business.logo_changed", "business.logo_removed"]


async def test_a_jpeg_is_accepted_as_a_jpeg(client: AsyncTestClient[Any], account: Account) -> None:
    out = io.BytesIO()
    Image.new("RGB", (30, 30), (200, 10, 10)).save(out, format="JPEG", comment=SECRET.encode())
    response = await put_logo(client, account, out.getvalue(), "image/jpeg")
    assert response.status_code == 200, response.text
    stored = await client.get(LOGO, headers=account.headers)
    assert stored.headers["content-type"] == "image/jpeg"
    assert SECRET.encode() not in stored.content


@pytest.mark.parametrize(
    ("body", "content_type", "field"),
    [
        (png(), "image/gif", "Content-Type"),
        (png(), "application/octet-stream", "Content-Type"),
        (png(), "image/jpeg", "body"),
        (b"not an image at all", "image/png", "body"),
        (png()[:40], "image/png", "body"),
        (b"", "image/png", "body"),
    ],
)
async def test_a_wrong_type_or_a_corrupt_image_is_422_and_leaves_nothing(
    client: AsyncTestClient[Any],
    account: Account,
    store: StoreProbe,
    body: bytes,
    content_type: str,
    field: str,
) -> None:
    rows = logo_rows(store.database_url)
    await assert_rejected(
        client,
        store,
        "PUT",
        LOGO,
        status=422,
        fields=[field],
        content=body,
        headers={**account.headers, "Content-Type": content_type},
    )
    assert logo_rows(store.database_url) == rows


async def test_over_512_kib_is_413_and_over_2000_pixels_is_422(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    rows = logo_rows(store.database_url)
    big = png() + b"\x00" * (MAX_LOGO_BYTES + 1 - len(png()))
    body = await assert_rejected(
        client,
        store,
        "PUT",
        LOGO,
        status=413,
        fields=["body"],
        content=big,
        headers={**account.headers, "Content-Type": "image/png"},
    )
    assert "512 KiB" in body["detail"]
    wide = await put_logo(client, account, png(size=(2001, 1)))
    assert_problem(wide, 422)
    assert problem_fields(wide) == ["body"]
    assert "2001 x 1" in wide.json()["errors"][0]["message"]
    assert logo_rows(store.database_url) == rows
    # 2000 pixels is within the bound.
    fits = await put_logo(client, account, png(size=(2000, 3)))
    assert fits.status_code == 200, fits.text


async def test_the_logo_needs_a_key_and_refuses_unknown_query_parameters(
    client: AsyncTestClient[Any], account: Account
) -> None:
    for method in ("GET", "PUT", "DELETE"):
        unauthenticated = await client.request(
            method, LOGO, content=png(), headers={"Content-Type": "image/png"}
        )
        assert_problem(unauthenticated, 401)
        typo = await client.request(
            method,
            LOGO + "?sizee=1",
            content=png(),
            headers={**account.headers, "Content-Type": "image/png"},
        )
        assert_problem(typo, 422)
        assert problem_fields(typo) == ["sizee"]


async def test_one_business_logo_never_shows_on_another_business_documents(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    """A's logo on A's PDF and public page; B (no logo) sees none of it, and B's GET is 404."""
    first, second = new_account("Logo A"), new_account("Logo B")
    assert (await put_logo(client, first, png((10, 200, 10)))).status_code == 200
    a_logo = (await client.get(LOGO, headers=first.headers)).content
    assert_problem(await client.get(LOGO, headers=second.headers), 404)

    for account, expected in ((first, 1), (second, 0)):
        invoice = await invoice_for(client, account, invoicing, database_url)
        pdf = await client.get(f"{INVOICES}/{invoice['id']}/pdf", headers=account.headers)
        images = [i for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages for i in p.images]
        assert len(images) == expected, account
        page = await client.get(invoice["public_url"])
        assert ('id="logo"' in page.text) is bool(expected)
        if expected:
            assert base64.b64encode(a_logo).decode() in page.text
            assert "img-src data:" in page.headers["content-security-policy"]
        else:
            assert "data:image" not in page.text
            assert "img-src" not in page.headers["content-security-policy"]


async def test_the_logo_operations_are_documented_with_every_answer(
    client: AsyncTestClient[Any],
) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    operations = document["paths"]["/api/v1/business/logo"]
    expected = {
        "put": {"200", "400", "401", "413", "422", "429", "503"},
        "get": {"200", "401", "404", "422", "429", "503"},
        "delete": {"204", "401", "422", "429", "503"},
    }
    for method, statuses in expected.items():
        operation = operations[method]
        assert operation["summary"], method
        assert operation["description"], method
        assert statuses <= set(operation["responses"]), (method, sorted(operation["responses"]))
    assert set(operations["put"]["requestBody"]["content"]) == {"image/png", "image/jpeg"}
    assert set(operations["get"]["responses"]["200"]["content"]) == {"image/png", "image/jpeg"}
    logo = document["components"]["schemas"]["BusinessLogo"]
    for field in ("sha256", "content_type", "width", "height"):
        assert logo["properties"][field]["description"], field
        assert logo["properties"][field]["examples"], field
