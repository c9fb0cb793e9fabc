"""GET /api/v1/invoices/{id}/pdf through the whole app: real WeasyPrint, real PDFs read back.

Amounts are asserted exactly as Babel formats them for the client's locale (the public page's
helpers), in the text pypdf extracts: U+00A0 is a no-break space, U+202F a narrow one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from litestar.testing import AsyncTestClient

from fastfaktura.adapters.pdf import render
from fastfaktura.adapters.pdf.document import DRAFT_MARKS, FRENCH_LATE_PAYMENT, PDF_LABELS
from fastfaktura.adapters.pdf.pool import PdfRenderPool
from fastfaktura.adapters.pdf.render import RenderedPdf
from fastfaktura.adapters.web.labels import LABELS
from fastfaktura.adapters.web.page import money
from fastfaktura.application import Invoicing
from tests.conftest import Account
from tests.documents.support import (
    LINE,
    attachments,
    get_pdf,
    invoice_for,
    pages_text,
    seller_account,
    send,
)
from tests.invoicing_support import INVOICES

NBSP = "\u00a0"
NNBSP = "\u202f"
CURRENCY = {"fr": "EUR", "en": "EUR", "nb": "NOK", "sv": "SEK"}
# The total of LINE (1,234.56) as each locale writes it.
TOTALS = {
    "fr": f"1{NNBSP}234,56{NBSP}€",
    "en": "€1,234.56",
    "nb": f"1{NBSP}234,56{NBSP}kr",
    "sv": f"1{NBSP}234,56{NBSP}kr",
}


def documents_row(database_url: str, invoice_id: str) -> tuple[bytes, str, int] | None:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT content, sha256, version FROM issued_documents"
            " WHERE document_id = %s AND kind = 'pdf'",
            (invoice_id,),
        ).fetchone()
    return (bytes(row[0]), row[1], row[2]) if row else None


@pytest.mark.parametrize("locale", ["fr", "en", "nb", "sv"])
async def test_the_pdf_is_in_the_clients_locale(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
    locale: str,
) -> None:
    account = seller_account(new_account)
    currency = CURRENCY[locale]
    invoice = await invoice_for(
        client, account, locale=locale, client_name="Kunde Nordvik AS", currency=currency
    )
    send(invoicing, database_url, account, invoice)
    response = await client.get(f"{INVOICES}/{invoice['id']}/pdf", headers=account.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'inline; filename="{invoice["number"]}.pdf"'
    assert response.content.startswith(b"%PDF-")
    text = "\n".join(pages_text(response.content))
    t = LABELS[locale]
    for expected in (
        invoice["number"],
        "Atelier Nord",
        "Atelier Nord SAS",
        "FR40303265045",
        "Kunde Nordvik AS",
        f"{t['total']} {TOTALS[locale]}",
        f"{t['amount_due']} {TOTALS[locale]}",
        f"{t['vat']} {money(20576, currency, locale)}",
        f"{t['subtotal']} {money(102880, currency, locale)}",
        "IBAN FR76 3000 6000 0112 3456 7890 189",
        "BIC AGRIFRPP",
        f"{PDF_LABELS[locale]['page']} 1 / 1",
    ):
        assert expected in text, (expected, text)
    assert money(123456, currency, locale) == TOTALS[locale]
    assert DRAFT_MARKS[locale] not in text
    # A French seller: late-payment penalties and the 40 EUR indemnity, in the client's words.
    squashed = "".join(text.split())
    assert "".join(FRENCH_LATE_PAYMENT[locale].split()[:4]) in squashed
    assert "".join(money(4000, "EUR", locale).split()) in squashed
    assert "L441-10" in squashed


async def test_a_long_invoice_repeats_the_table_header_on_every_page(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    account = seller_account(new_account)
    lines = [{**LINE, "description": f"Item {n:03d}"} for n in range(200)]
    invoice = await invoice_for(client, account, locale="en", lines=lines)
    pages = pages_text(await get_pdf(client, account, invoice["id"]))
    t = LABELS["en"]
    header = f"{t['description']} {t['quantity']} {t['unit_price']} {t['vat_rate']} {t['net']}"
    with_lines = [text for text in pages if "Item " in text]
    assert len(with_lines) >= 4
    for text in with_lines:
        assert header in text
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} / {len(pages)}" in text
        assert "DRAFT" in text
    everything = "\n".join(pages)
    assert all(f"Item {n:03d}" in everything for n in range(200))


HOSTILE = [
    '<img src="file:///etc/passwd">',
    '<link rel=stylesheet href="http://127.0.0.1:9/x.css">',
    "<script>alert(1)</script>",
    "<style>@import url(http://127.0.0.1:9/y.css)</style>",
    "فاتورة الخدمات الشهرية",
    "חשבונית עבור שירותים",
]


async def test_hostile_text_is_shown_as_text_and_fetches_nothing(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The renderer runs in a worker process; what its fetcher saw comes back with the PDF.
    fetchers: list[RenderedPdf] = []
    real = PdfRenderPool.render

    async def recording(pool: PdfRenderPool, business_id: Any, invoice: Any, **kw: Any) -> Any:
        rendered = await real(pool, business_id, invoice, **kw)
        fetchers.append(rendered)
        return rendered

    monkeypatch.setattr(PdfRenderPool, "render", recording)
    account = seller_account(new_account)
    long_word = "A" * 5000
    invoice = await invoice_for(
        client,
        account,
        client_name='<img src="file:///etc/passwd"> Kunde',
        lines=[{**LINE, "description": text} for text in HOSTILE],
        notes=long_word[:4990] + " end.",
    )
    send(invoicing, database_url, account, invoice)
    pages = pages_text(await get_pdf(client, account, invoice["id"]))
    text = "".join(pages).replace("\n", "")
    for hostile in HOSTILE[:4]:
        assert hostile in text, hostile
    assert '<img src="file:///etc/passwd"> Kunde' in text
    # The 5,000-character word is broken across lines and pages, every character kept.
    runs = re.findall("A{40,}", "".join(text.split()))
    assert sum(len(run) for run in runs) == 4990
    # Right-to-left text comes back as its letters (in some order), not as tofu or nothing.
    for rtl in HOSTILE[4:]:
        assert set(rtl.replace(" ", "")) <= set(text), rtl
    [fetcher] = fetchers
    assert list(fetcher.refused_urls) == []
    assert set(fetcher.requested_urls) <= {f"{render.ASSET_SCHEME}{n}" for n in render.ASSET_NAMES}


async def test_a_sent_invoice_is_rendered_once_and_served_from_the_store(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    renders: list[str] = []
    real = PdfRenderPool.render

    async def counting(pool: PdfRenderPool, business_id: Any, invoice: Any, **kw: Any) -> Any:
        renders.append(invoice.number)
        return await real(pool, business_id, invoice, **kw)

    monkeypatch.setattr(PdfRenderPool, "render", counting)
    account = seller_account(new_account)
    invoice = await invoice_for(client, account, locale="fr", currency="EUR")
    send(invoicing, database_url, account, invoice)
    first = await get_pdf(client, account, invoice["id"])
    stored = documents_row(database_url, invoice["id"])
    assert stored is not None
    content, sha256, version = stored
    assert content == first
    assert attachments(first) == ["factur-x.xml"]
    assert sha256 == hashlib.sha256(first).hexdigest()
    assert version >= 2
    # A payment later changes the live invoice, not the document as issued.
    paid = await client.post(
        f"{INVOICES}/{invoice['id']}/payments",
        headers=account.headers,
        json={"amount_cents": 1000, "method": "bank_transfer"},
    )
    assert paid.status_code == 201, paid.text
    second = await get_pdf(client, account, invoice["id"])
    assert second == first
    assert renders == [invoice["number"]]


async def test_a_draft_is_marked_rendered_each_time_and_never_stored(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    renders: list[str] = []
    real = PdfRenderPool.render

    async def counting(pool: PdfRenderPool, business_id: Any, invoice: Any, **kw: Any) -> Any:
        renders.append(invoice.number)
        return await real(pool, business_id, invoice, **kw)

    monkeypatch.setattr(PdfRenderPool, "render", counting)
    account = seller_account(new_account)
    for locale in ("fr", "nb"):
        invoice = await invoice_for(client, account, locale=locale)
        for _ in range(2):
            pdf = await get_pdf(client, account, invoice["id"])
            assert DRAFT_MARKS[locale] in pages_text(pdf)[0]
            assert attachments(pdf) == []
        assert documents_row(database_url, invoice["id"]) is None
    assert len(renders) == 4


async def test_another_business_or_an_unknown_id_gets_404(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    owner, other = seller_account(new_account), seller_account(new_account, "Other")
    invoice = await invoice_for(client, owner)
    for account, invoice_id in (
        (other, invoice["id"]),
        (owner, str(uuid4())),
        (owner, "not-a-uuid"),
    ):
        response = await client.get(f"{INVOICES}/{invoice_id}/pdf", headers=account.headers)
        assert response.status_code == 404, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    anonymous = await client.get(f"{INVOICES}/{invoice['id']}/pdf")
    assert anonymous.status_code == 401


async def test_the_pdf_endpoint_is_in_the_openapi_document(client: AsyncTestClient[Any]) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    operation = document["paths"]["/api/v1/invoices/{invoice_id}/pdf"]["get"]
    assert operation["operationId"] == "GetInvoicePdf"
    assert {"200", "401", "404"} <= set(operation["responses"])
    assert "application/pdf" in operation["responses"]["200"]["content"]


async def test_the_public_page_links_to_the_same_pdf_by_token(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    account = seller_account(new_account)
    invoice = await invoice_for(client, account, locale="sv", currency="SEK")
    draft_url = invoice["public_url"].removeprefix("http://testserver") + "/pdf"
    assert (await client.get(draft_url)).status_code == 404
    send(invoicing, database_url, account, invoice)
    page = await client.get(invoice["public_url"].removeprefix("http://testserver"))
    token = invoice["public_url"].rsplit("/", 1)[-1]
    assert f'href="{token}/pdf"' in page.text  # relative to /i/{token}
    assert LABELS["sv"]["download_pdf"] in page.text
    public = await client.get(draft_url)
    assert public.status_code == 200
    assert public.headers["content-type"] == "application/pdf"
    assert public.headers["referrer-policy"] == "no-referrer"
    assert public.content == await get_pdf(client, account, invoice["id"])
    assert (await client.get("/i/no-such-token/pdf")).status_code == 404


async def test_a_draft_cancelled_unsent_is_still_a_draft_and_has_no_public_pdf(
    client: AsyncTestClient[Any], new_account: Callable[..., Account], database_url: str
) -> None:
    account = seller_account(new_account)
    invoice = await invoice_for(client, account, locale="nb")
    cancelled = await client.post(f"{INVOICES}/{invoice['id']}/cancel", headers=account.headers)
    assert cancelled.status_code == 200, cancelled.text
    url = invoice["public_url"].removeprefix("http://testserver") + "/pdf"
    assert (await client.get(url)).status_code == 404
    # Never issued: no Factur-X, marked as a draft, not stored.
    pdf = await get_pdf(client, account, invoice["id"])
    assert DRAFT_MARKS["nb"] in pages_text(pdf)[0]
    assert attachments(pdf) == []
    assert documents_row(database_url, invoice["id"]) is None
