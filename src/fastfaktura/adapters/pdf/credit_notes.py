"""As issued, forever, for credit notes (issues 14 and 18): a credit note's Factur-X PDF, its
CII (the XML embedded in that PDF) and its UBL are produced when it is issued, stored byte for
byte in issued_documents (keyed by the credit note's id, as invoices' by theirs: issued.py) and
served from there; its `issued` event records their SHA-256 by kind (`documents`), so the hash
chain covers them and `audit verify` proves the stored bytes are the ones issued.

The API decides the credit note without recording it, renders and stores its documents
(`produce_credit_note_documents`, through the PDF pool: a full queue answers 503 and records
nothing), then issues it only as decided (application/credit_notes.py `RenderedAs`).

Credit notes issued before this record no digest: their documents are rendered on their first
request into credit_note_documents (credit_note_store.py), and their UBL on each request.
"""

from __future__ import annotations

from uuid import UUID

import anyio.to_thread
import asyncpg

from fastfaktura.adapters.einvoice.on_request import credit_note_ubl
from fastfaktura.adapters.logo_store import branding
from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.adapters.pdf.credit_note_store import (
    CreditNoteDocuments,
    credit_note_documents,
    embedded_xml,
)
from fastfaktura.adapters.pdf.digests import CREDIT_NOTE_ISSUED_TOPIC, recorded_digests
from fastfaktura.adapters.pdf.document import pdf_filename
from fastfaktura.adapters.pdf.issued import IssuedDocument, IssuedDocumentMissingError
from fastfaktura.adapters.pdf.pool import PdfRenderer
from fastfaktura.readmodels.credit_note_view import CreditNoteResponse

# The kinds a credit note is issued with (each with the media type it is served as).
CREDIT_NOTE_KINDS = {"pdf": "application/pdf", "cii": "application/xml", "ubl": "application/xml"}


def _sql(name: str) -> str:
    return local_statement(__file__, "issued.sql", name)


async def produce_credit_note_documents(
    renderer: PdfRenderer, pool: asyncpg.Pool, business_id: UUID, note: CreditNoteResponse
) -> dict[str, bytes]:
    """Every kind of `note` (as its documents show it) as issued: rendered with the business's
    marks, not stored."""
    marks = await branding(pool, business_id)
    pdf = (await renderer.render(business_id, note, issued=True, branding=marks)).content
    return {
        "pdf": pdf,
        "cii": await anyio.to_thread.run_sync(embedded_xml, pdf),
        "ubl": await anyio.to_thread.run_sync(credit_note_ubl, note),
    }


async def issued_credit_note_document(
    pool: asyncpg.Pool, business_id: UUID, credit_note_id: UUID, kind: str
) -> IssuedDocument | None:
    """The `kind` document the credit note's `issued` event names (of `business_id`, the
    caller has checked); None for a credit note issued before its documents were recorded."""
    issued = await pool.fetchrow(_sql("issuing_event"), credit_note_id, CREDIT_NOTE_ISSUED_TOPIC)
    recorded = recorded_digests(bytes(issued["state"])) if issued is not None else None
    if recorded is None or kind not in recorded:
        return None
    row = await pool.fetchrow(
        _sql("document_with_digest"), business_id, credit_note_id, kind, recorded[kind]
    )
    if row is None:
        raise IssuedDocumentMissingError(
            f"credit note {credit_note_id}: the issued {kind} ({recorded[kind]}) is not stored"
        )
    return IssuedDocument(bytes(row["content"]), str(row["sha256"]), rendered=False)


async def credit_note_as_issued(
    renderer: PdfRenderer,
    pool: asyncpg.Pool,
    business_id: UUID,
    note: CreditNoteResponse,
    version: int,
) -> CreditNoteDocuments:
    """The PDF and CII of `note` as issued: the recorded ones, or, for a credit note issued
    before they were recorded, those of credit_note_documents (rendered now if none)."""
    pdf = await issued_credit_note_document(pool, business_id, note.id, "pdf")
    cii = await issued_credit_note_document(pool, business_id, note.id, "cii")
    if pdf is None or cii is None:
        return await credit_note_documents(renderer, pool, business_id, note, version)
    return CreditNoteDocuments(
        pdf=pdf.content,
        pdf_sha256=pdf.sha256,
        xml=cii.content,
        xml_sha256=cii.sha256,
        filename=pdf_filename(note.number),
        rendered=False,
    )
