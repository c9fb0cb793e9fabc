"""The invoice PDF: a sent invoice's as issued (adapters/pdf/issued.py, issued_documents), a
draft's rendered on each request (marked DRAFT, never stored).

Rendering is the renderer's (the app's PdfRenderPool: fair per business, bounded, in worker
processes; a full queue raises PdfQueueFullError before anything is done). The database work
stays here, in the serving process, and so does reading the business's marks (sandbox, logo:
adapters/logo_store.py) that the renderer gets with the document. A stored PDF keeps the marks
it was rendered with: changing the logo later changes no PDF already stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg

from fastfaktura.adapters.logo_store import branding
from fastfaktura.adapters.pdf.document import pdf_filename
from fastfaktura.adapters.pdf.issued import issued_document
from fastfaktura.adapters.pdf.pool import PdfRenderer
from fastfaktura.readmodels.invoice_view import InvoiceResponse


@dataclass(frozen=True)
class InvoicePdf:
    content: bytes
    filename: str
    rendered: bool  # False: served from issued_documents
    cached: bool  # stored in issued_documents (every invoice but a draft)
    sha256: str | None = None  # a stored PDF's digest (its strong ETag); None for a draft


async def invoice_pdf(
    renderer: PdfRenderer,
    pool: asyncpg.Pool,
    business_id: UUID,
    invoice: InvoiceResponse,
    version: int,
    *,
    issued: bool,
) -> InvoicePdf:
    """The PDF of `invoice` (of `business_id`; the caller has checked it is theirs), as issued
    when `issued` (Factur-X, stored), else a draft (marked, rendered each time, not stored)."""
    filename = pdf_filename(invoice.number)
    if not issued:
        marks = await branding(pool, business_id)
        rendered = await renderer.render(business_id, invoice, issued=False, branding=marks)
        return InvoicePdf(rendered.content, filename, rendered=True, cached=False)
    document = await issued_document(renderer, pool, business_id, invoice, version, "pdf")
    return InvoicePdf(
        document.content, filename, document.rendered, cached=True, sha256=document.sha256
    )
