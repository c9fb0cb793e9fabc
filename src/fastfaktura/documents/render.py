"""Invoice document -> PDF (WeasyPrint), in a worker thread.

Safety: the HTML is a Jinja2 template with autoescaping always on, so user text (descriptions,
notes, names) is text, never markup; and WeasyPrint only ever fetches through `AssetFetcher`,
which serves the package's own files under documents/assets/ by name and refuses every other
URL (file:, http:, https:, data:, anything), recording each request. Nothing in a rendered
invoice can make the renderer read a file or reach the network.

An invoice that is not a draft is a Factur-X PDF: PDF/A-3b with its CII XML (EN 16931
profile) embedded as factur-x.xml. A draft is not an invoice yet: a plain PDF/A-3b, marked
DRAFT on every page, with no XML that software could take for a real invoice.
"""

from __future__ import annotations

import logging
import mimetypes
import threading
import time
from functools import cache
from importlib.resources import files
from typing import Any, Final

import anyio
import anyio.to_thread
import facturx
import structlog
from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from fastfaktura.documents.cii import build_cii
from fastfaktura.documents.document import InvoiceDocument

log = structlog.get_logger(__name__)
ASSET_SCHEME: Final = "fastfaktura-asset:"
# Every file the renderer may read, by the name the CSS uses: nothing else exists for it.
ASSET_NAMES: Final = frozenset({"fonts/DejaVuSans.ttf", "fonts/DejaVuSans-Bold.ttf"})
PDF_VARIANT: Final = "pdf/a-3b"

# WeasyPrint warns (through logging) for every refused URL; our fetcher records them instead.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)
# factur-x logs every embedding at INFO; "invoice pdf rendered" below says what matters.
logging.getLogger("factur-x").setLevel(logging.WARNING)


class AssetRefusedError(ValueError):
    """A URL outside the package's assets (WeasyPrint catches it and skips the resource)."""


class AssetFetcher(URLFetcher):  # type: ignore[misc]  # weasyprint is untyped
    """Serves `fastfaktura-asset:NAME` for the names in ASSET_NAMES; refuses all else."""

    def __init__(self) -> None:
        # No protocol is allowed to the base class: even if it were reached, it opens nothing.
        super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)
        self.requested: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        self.requested.append(url)
        name = url.removeprefix(ASSET_SCHEME) if url.startswith(ASSET_SCHEME) else None
        if name not in ASSET_NAMES:
            self.refused.append(url)
            raise AssetRefusedError(f"not a FastFaktura document asset: {url[:200]}")
        content = files("fastfaktura.documents").joinpath("assets", *name.split("/")).read_bytes()
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
                PackageLoader("fastfaktura.documents", "templates"),
                PackageLoader("fastfaktura.web", "templates"),
            ]
        ),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(doc: InvoiceDocument) -> str:
    return environment().get_template("invoice.html").render(doc=doc, v=doc.view, t=doc.labels)


@cache
def _stylesheet_text() -> str:
    return files("fastfaktura.documents").joinpath("assets", "invoice.css").read_text("utf-8")


# The stylesheet and its fonts, parsed once per rendering thread (WeasyPrint's objects are not
# to be shared between threads): parsing them again cost about a tenth of a one-line invoice.
_per_thread = threading.local()


def _styles() -> tuple[FontConfiguration, CSS]:
    styles: tuple[FontConfiguration, CSS] | None = getattr(_per_thread, "styles", None)
    if styles is None:
        fonts = FontConfiguration()
        stylesheet = CSS(string=_stylesheet_text(), url_fetcher=_FONT_FETCHER, font_config=fonts)
        styles = _per_thread.styles = (fonts, stylesheet)
    return styles


def render_pdf(doc: InvoiceDocument, fetcher: AssetFetcher | None = None) -> bytes:
    """The PDF of `doc` (blocking: CPU-bound, seconds for hundreds of lines)."""
    fetcher = fetcher or AssetFetcher()
    started = time.perf_counter()
    fonts, stylesheet = _styles()
    html = HTML(string=render_html(doc), base_url=ASSET_SCHEME, url_fetcher=fetcher)
    pdf: bytes = html.write_pdf(
        stylesheets=[stylesheet],
        font_config=fonts,
        pdf_variant=PDF_VARIANT,
        uncompressed_pdf=False,
    )
    if not doc.draft:
        pdf = facturx.generate_from_binary(
            pdf,
            build_cii(doc),
            flavor="factur-x",
            level="en16931",
            check_xsd=True,
            lang=doc.locale,
            pdf_metadata={
                "author": doc.seller.name,
                "keywords": "Factur-X, Invoice",
                "title": f"{doc.seller.name}: {doc.number}",
                "subject": f"Invoice {doc.number} dated {doc.issue_date.isoformat()}",
            },
        )
    log.info(
        "invoice pdf rendered",
        invoice_id=str(doc.invoice_id),
        lines=len(doc.lines),
        draft=doc.draft,
        bytes=len(pdf),
        seconds=round(time.perf_counter() - started, 3),
        refused_urls=len(fetcher.refused),
    )
    return pdf


@cache
def _limiter() -> anyio.CapacityLimiter:
    # Rendering is CPU-bound and fontconfig/Pango are not reliably thread-safe: one at a time.
    return anyio.CapacityLimiter(1)


async def render_pdf_async(doc: InvoiceDocument) -> bytes:
    """render_pdf in a worker thread, so the event loop keeps serving."""
    return await anyio.to_thread.run_sync(render_pdf, doc, limiter=_limiter())
