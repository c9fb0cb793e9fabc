"""Invoice (or credit note) document -> PDF (WeasyPrint), in a worker process of the PDF pool
(pool.py).

Safety: the HTML is a Jinja2 template with autoescaping always on, so user text (descriptions,
notes, names) is text, never markup; and WeasyPrint only ever fetches through `AssetFetcher`,
which serves the package's own files under adapters/pdf/assets/ by name, and the business's
logo as the one `data:` URI the document itself carries (its bytes are in the job, read from
the database by the serving process), and refuses every other URL (file:, http:, https:, any
other data:, anything), recording each request. Nothing in a rendered invoice can make the
renderer read a file or reach the network.

A sandbox business's documents carry a TEST watermark on every page, in the client's locale
(adapters/web/branding.py); a live business's never do.

An invoice that is not a draft is a Factur-X PDF: PDF/A-3b with its CII XML (EN 16931
profile) embedded as factur-x.xml. A draft is not an invoice yet: a plain PDF/A-3b, marked
DRAFT on every page, with no XML that software could take for a real invoice.
"""

from __future__ import annotations

import logging
import mimetypes
import threading
import time
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, Final
from uuid import UUID

import facturx
import msgspec
from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from fastfaktura.adapters.pdf.cii import build_cii
from fastfaktura.adapters.pdf.credit_note import build_credit_note_document
from fastfaktura.adapters.pdf.document import InvoiceDocument, build_document
from fastfaktura.adapters.web.branding import NO_BRANDING, SANDBOX_LABELS, Branding, Logo
from fastfaktura.adapters.web.labels import LOCALES
from fastfaktura.readmodels.credit_note_view import CreditNoteResponse
from fastfaktura.readmodels.invoice_view import InvoiceResponse

ASSET_SCHEME: Final = "fastfaktura-asset:"
# Every file the renderer may read, by the name the CSS uses: nothing else exists for it.
ASSET_NAMES: Final = frozenset({"fonts/DejaVuSans.ttf", "fonts/DejaVuSans-Bold.ttf"})
PDF_VARIANT: Final = "pdf/a-3b"
# What a fetcher records of a URL (a data: URI may be hundreds of kilobytes).
MAX_RECORDED_URL: Final = 200
# What the pool renders: an invoice (as issued, or a draft) or a credit note.
Renderable = InvoiceResponse | CreditNoteResponse

# WeasyPrint warns (through logging) for every refused URL; our fetcher records them instead.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)
# factur-x logs every embedding at INFO; the pool's "invoice pdf rendered" says what matters.
logging.getLogger("factur-x").setLevel(logging.WARNING)


class AssetRefusedError(ValueError):
    """A URL outside the package's assets (WeasyPrint catches it and skips the resource)."""


class AssetFetcher(URLFetcher):  # type: ignore[misc]  # weasyprint is untyped
    """Serves `fastfaktura-asset:NAME` for the names in ASSET_NAMES; refuses all else."""

    def __init__(self, logo: Logo | None = None) -> None:
        # No protocol is allowed to the base class: even if it were reached, it opens nothing.
        super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)
        self.requested: list[str] = []
        self.refused: list[str] = []
        # The document's own logo, inline: the only data: URI served (its bytes are at hand).
        self._logo = logo
        self._logo_uri = logo.data_uri if logo is not None else None

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        self.requested.append(url[:MAX_RECORDED_URL])
        if self._logo is not None and url == self._logo_uri:
            return URLFetcherResponse(
                url, self._logo.content, {"Content-Type": self._logo.content_type}
            )
        name = url.removeprefix(ASSET_SCHEME) if url.startswith(ASSET_SCHEME) else None
        if name not in ASSET_NAMES:
            self.refused.append(url[:MAX_RECORDED_URL])
            raise AssetRefusedError(f"not a FastFaktura document asset: {url[:200]}")
        content = (
            files("fastfaktura.adapters.pdf").joinpath("assets", *name.split("/")).read_bytes()
        )
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, content, {"Content-Type": content_type})

    def open(self, url: Any, data: Any = None, timeout: Any = None) -> URLFetcherResponse:
        return self.fetch(url if isinstance(url, str) else str(url.full_url))


# What the cached stylesheets load their fonts through (only ASSET_NAMES, like any fetcher).
_FONT_FETCHER: Final = AssetFetcher()


@cache
def environment() -> Environment:
    return Environment(
        # The web templates too: the lines table is shared with the public page.
        loader=ChoiceLoader(
            [
                PackageLoader("fastfaktura.adapters.pdf", "templates"),
                PackageLoader("fastfaktura.adapters.web", "templates"),
            ]
        ),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(doc: InvoiceDocument, branding: Branding = NO_BRANDING) -> str:
    template = "credit_note.html" if doc.is_credit_note else "invoice.html"
    return (
        environment()
        .get_template(template)
        .render(
            doc=doc,
            v=doc.view,
            t=doc.labels,
            test_mark=SANDBOX_LABELS[doc.locale]["test_mark"] if branding.sandbox else None,
            logo=branding.logo.data_uri if branding.logo is not None else None,
        )
    )


@cache
def _stylesheet_text() -> str:
    return files("fastfaktura.adapters.pdf").joinpath("assets", "invoice.css").read_text("utf-8")


# The stylesheet and its fonts, parsed once per rendering thread (WeasyPrint's objects are not
# to be shared between threads): parsing them again cost about a tenth of a one-line invoice.
# A pool worker process renders in one thread, so it parses them once (see warm_up).
_per_thread = threading.local()


def _styles() -> tuple[FontConfiguration, CSS]:
    styles: tuple[FontConfiguration, CSS] | None = getattr(_per_thread, "styles", None)
    if styles is None:
        fonts = FontConfiguration()
        stylesheet = CSS(string=_stylesheet_text(), url_fetcher=_FONT_FETCHER, font_config=fonts)
        styles = _per_thread.styles = (fonts, stylesheet)
    return styles


def render_pdf(
    doc: InvoiceDocument, fetcher: AssetFetcher | None = None, branding: Branding = NO_BRANDING
) -> bytes:
    """The PDF of `doc` (blocking: CPU-bound, seconds for hundreds of lines), with the
    business's marks: TEST for a sandbox business, its logo."""
    fetcher = fetcher or AssetFetcher(branding.logo)
    fonts, stylesheet = _styles()
    html = HTML(string=render_html(doc, branding), base_url=ASSET_SCHEME, url_fetcher=fetcher)
    pdf: bytes = html.write_pdf(
        stylesheets=[stylesheet],
        font_config=fonts,
        pdf_variant=PDF_VARIANT,
        uncompressed_pdf=False,
    )
    if not doc.draft:
        kind = "Credit note" if doc.is_credit_note else "Invoice"
        pdf = facturx.generate_from_binary(
            pdf,
            build_cii(doc),
            flavor="factur-x",
            level="en16931",
            check_xsd=True,
            lang=doc.locale,
            pdf_metadata={
                "author": doc.seller.name,
                "keywords": f"Factur-X, {kind}",
                "title": f"{doc.seller.name}: {doc.number}",
                "subject": f"{kind} {doc.number} dated {doc.issue_date.isoformat()}",
            },
        )
    return pdf


@dataclass(frozen=True)
class RenderedPdf:
    """A PDF and what its rendering asked for (every URL requested, those refused), as a
    worker process sends it back: the serving process logs it (workers do not log)."""

    content: bytes
    seconds: float
    requested_urls: tuple[str, ...]
    refused_urls: tuple[str, ...]


def render_job(source: Renderable, issued: bool, branding: Branding = NO_BRANDING) -> RenderedPdf:
    """One job of the PDF pool, run in a worker process: plain data in, plain data out. The
    document is built here too: formatting hundreds of lines is CPU work as well, which would
    stall the serving process's event loop. A credit note is always as issued."""
    fetcher = AssetFetcher(branding.logo)
    started = time.perf_counter()
    if isinstance(source, CreditNoteResponse):
        doc = build_credit_note_document(source)
    else:
        doc = build_document(source, issued=issued)
    content = render_pdf(doc, fetcher, branding)
    return RenderedPdf(
        content=content,
        seconds=time.perf_counter() - started,
        requested_urls=tuple(fetcher.requested),
        refused_urls=tuple(fetcher.refused),
    )


def warm_up() -> None:
    """Render a small sample invoice in each locale (and once as issued): the template, the
    fonts, each locale's formats and the Factur-X schema are loaded now, not by a worker
    process's first jobs (which took several times as long as the next ones)."""
    for locale in LOCALES:
        render_pdf(build_document(_sample_invoice(locale), issued=False))
    render_pdf(build_document(_sample_invoice(LOCALES[0]), issued=True))


def _sample_invoice(locale: str) -> InvoiceResponse:
    party = {"email": None, "phone": None, "address": "1 rue de la Paix\n75002 Paris"}
    party |= {"country": "FR", "vat_number": "FR40303265045", "company_id": "303265045"}
    return msgspec.convert(
        {
            "id": str(UUID(int=0)),
            "number": "F2026-00001",
            "client_id": str(UUID(int=0)),
            "currency": "EUR",
            "status": "draft",
            "issue_date": "2026-01-01",
            "due_date": "2026-01-31",
            "notes": None,
            "lines": [
                {
                    "description": "Sample",
                    "quantity": 1,
                    "unit_price_cents": 100,
                    "tax_rate": 20,
                    "net_cents": 100,
                }
            ],
            "subtotal_cents": 100,
            "tax_cents": 20,
            "total_cents": 120,
            "tax_breakdown": [{"rate": 20, "base_cents": 100, "tax_cents": 20}],
            "amount_paid_cents": 0,
            "amount_due_cents": 120,
            "seller": {
                **party,
                "name": "Sample",
                "legal_name": "Sample SAS",
                "iban": None,
                "bic": None,
            },
            "buyer": {**party, "id": str(UUID(int=0)), "name": "Sample", "locale": locale},
            "public_url": "https://fastfaktura.invalid/i/sample",
            "payment_reference": "RF89202600042",
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        },
        InvoiceResponse,
    )
