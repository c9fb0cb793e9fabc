"""The invoice PDF, from the invoice_documents table when it is there (migrations/0006).

A sent invoice never changes: its PDF is rendered once, on the first request, stored with its
SHA-256 and served from the table afterwards, byte for byte. Drafts are rendered on every
request and never stored. Two first requests at once may both render; the first to store
wins and both answer with the stored bytes, so every reader sees one and the same document.

Rendering is the renderer's (the app's PdfRenderPool: fair per business, bounded, in worker
processes; a full queue raises PdfQueueFullError before anything is done). The database work
stays here, in the serving process, and so does reading the business's marks (sandbox, logo:
adapters/logo_store.py) that the renderer gets with the document. A stored PDF keeps the marks
it was rendered with: changing the logo later changes no PDF already stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from fastfaktura.adapters.logo_store import branding
from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.adapters.pdf.document import pdf_filename
from fastfaktura.adapters.pdf.pool import PdfRenderer
from fastfaktura.readmodels.invoice_view import InvoiceResponse


def _sql(name: str) -> str:
    return local_statement(__file__, "store.sql", name)


@dataclass(frozen=True)
class InvoicePdf:
    content: bytes
    filename: str
    rendered: bool  # False: served from invoice_documents
    cached: bool  # stored in invoice_documents (every invoice but a draft)


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
    stored = await pool.fetchval(_sql("stored_pdf"), business_id, invoice.id)
    if stored is not None:
        return InvoicePdf(bytes(stored), filename, rendered=False, cached=True)
    marks = await branding(pool, business_id)
    content = (await renderer.render(business_id, invoice, issued=True, branding=marks)).content
    digest = hashlib.sha256(content).hexdigest()
    await pool.execute(_sql("store_pdf"), business_id, invoice.id, version, content, digest)
    # Another request may have stored first: serve what the table holds, whoever wrote it.
    stored = await pool.fetchval(_sql("stored_pdf"), business_id, invoice.id)
    return InvoicePdf(bytes(stored), filename, rendered=True, cached=True)
