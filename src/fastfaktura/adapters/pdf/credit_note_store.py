"""A credit note's documents, from credit_note_documents when they are there (migration 0017):
those of credit notes issued before their documents were recorded at issue (credit_notes.py).

A credit note never changes once issued: its Factur-X PDF is rendered once (through the PDF
pool, on the first request), stored with the CII XML embedded in it, and both are served from
the table afterwards, byte for byte. Two first requests at once may both render; the first to
store wins and both answer with the stored bytes (as for invoices, store.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from uuid import UUID

import anyio.to_thread
import asyncpg
import facturx

from fastfaktura.adapters.logo_store import branding
from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.adapters.pdf.document import pdf_filename
from fastfaktura.adapters.pdf.pool import PdfRenderer
from fastfaktura.readmodels.credit_note_view import CreditNoteResponse


def _sql(name: str) -> str:
    return local_statement(__file__, "credit_note_store.sql", name)


@dataclass(frozen=True)
class CreditNoteDocuments:
    pdf: bytes
    pdf_sha256: str  # the PDF's strong ETag
    xml: bytes  # the CII embedded in `pdf`, byte for byte
    xml_sha256: str
    filename: str  # `{number}.pdf`
    rendered: bool  # False: served from credit_note_documents


def embedded_xml(pdf: bytes) -> bytes:
    """The Factur-X XML a PDF carries (blocking: parses the PDF)."""
    _, xml = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=False)
    return bytes(xml)


async def credit_note_documents(
    renderer: PdfRenderer,
    pool: asyncpg.Pool,
    business_id: UUID,
    note: CreditNoteResponse,
    version: int,
) -> CreditNoteDocuments:
    """The PDF and XML of `note` (of `business_id`; the caller has checked it is theirs), as
    issued: `note` is the credit note as the documents show it (queries/credit_notes.py
    `find_credit_note_as_issued`)."""
    filename = pdf_filename(note.number)
    stored = await pool.fetchrow(_sql("stored_documents"), business_id, note.id)
    if stored is not None:
        return _documents(stored, filename, rendered=False)
    # The business's marks (sandbox, logo) as they are now: stored with the PDF, kept after.
    marks = await branding(pool, business_id)
    pdf = (await renderer.render(business_id, note, issued=True, branding=marks)).content
    xml = await anyio.to_thread.run_sync(embedded_xml, pdf)
    await pool.execute(
        _sql("store_documents"),
        business_id,
        note.id,
        version,
        pdf,
        hashlib.sha256(pdf).hexdigest(),
        xml,
        hashlib.sha256(xml).hexdigest(),
    )
    # Another request may have stored first: serve what the table holds, whoever wrote it.
    stored = await pool.fetchrow(_sql("stored_documents"), business_id, note.id)
    return _documents(stored, filename, rendered=True)


def _documents(row: asyncpg.Record, filename: str, *, rendered: bool) -> CreditNoteDocuments:
    return CreditNoteDocuments(
        pdf=bytes(row["content"]),
        pdf_sha256=str(row["sha256"]),
        xml=bytes(row["xml"]),
        xml_sha256=str(row["xml_sha256"]),
        filename=filename,
        rendered=rendered,
    )
