"""As issued, forever: an invoice's documents (its PDF and e-invoice XML), produced once when it
is issued, stored byte for byte in issued_documents (migration 0022) and served from there.

The first send renders them before recording anything (`produce_documents`, through the PDF
pool: a full queue answers 503 and records nothing), stores them (`store_documents`), then
records `sent` with their SHA-256 by kind (`documents` in the event's data): the hash chain
covers those digests, so `audit verify` proves the stored bytes are the ones issued. Rows are
keyed by their digest: a send that renders and then loses a race leaves a row no event names,
and it is never served.

Invoices issued before this (or sent by a tool that skips the API) record no digest: their
documents are rendered on their first request and stored, the first stored wins, as before.

A kind is one entry of KINDS: its media type, and how it is made from the issued PDF and the
invoice (the PDF itself is the pool's).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from uuid import UUID

import anyio.to_thread
import asyncpg

from fastfaktura.adapters.einvoice.on_request import invoice_xml
from fastfaktura.adapters.logo_store import branding
from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.adapters.pdf.credit_note_store import embedded_xml
from fastfaktura.adapters.pdf.digests import SENT_TOPIC, digest, recorded_digests
from fastfaktura.adapters.pdf.pool import PdfRenderer
from fastfaktura.readmodels.invoice_view import InvoiceResponse

# kind -> (media type, how it is made from (issued PDF, invoice); None: the PDF itself).
# Blocking makers run in a thread. A new e-invoice format is one entry here.
Maker = Callable[[bytes, InvoiceResponse], bytes]
KINDS: dict[str, tuple[str, Maker | None]] = {
    "pdf": ("application/pdf", None),
    "cii": ("application/xml", lambda pdf, _invoice: embedded_xml(pdf)),
    "ubl": ("application/xml", lambda _pdf, invoice: invoice_xml(invoice, "ubl")),
}


class IssuedDocumentMissingError(Exception):
    """The issuing event names a document the store does not hold (deleted or changed by hand:
    `audit verify` names it). Nothing else is served in its place."""


def _sql(name: str) -> str:
    return local_statement(__file__, "issued.sql", name)


@dataclass(frozen=True)
class IssuedDocument:
    content: bytes
    sha256: str  # lowercase hex: the strong ETag
    rendered: bool  # False: served from issued_documents as it was


async def produce_documents(
    renderer: PdfRenderer, pool: asyncpg.Pool, business_id: UUID, invoice: InvoiceResponse
) -> dict[str, bytes]:
    """Every kind of `invoice` as issued (rendered with the business's marks, not stored)."""
    marks = await branding(pool, business_id)
    pdf = (await renderer.render(business_id, invoice, issued=True, branding=marks)).content
    documents = {"pdf": pdf}
    for kind, (_, make) in KINDS.items():
        if make is not None:
            documents[kind] = await anyio.to_thread.run_sync(make, pdf, invoice)
    return documents


async def store_documents(
    pool: asyncpg.Pool,
    business_id: UUID,
    document_id: UUID,
    version: int,
    documents: Mapping[str, bytes],
) -> dict[str, str]:
    """Store `documents` (kind -> bytes); their digests by kind, what the issuing event records."""
    digests = {kind: digest(content) for kind, content in documents.items()}
    await pool.executemany(
        _sql("store_document"),
        [
            (business_id, document_id, kind, digests[kind], content, version)
            for kind, content in documents.items()
        ],
    )
    return digests


async def issued_document(
    renderer: PdfRenderer,
    pool: asyncpg.Pool,
    business_id: UUID,
    invoice: InvoiceResponse,
    version: int,
    kind: str,
) -> IssuedDocument:
    """The `kind` document of `invoice` (issued; of `business_id`, the caller has checked): the
    bytes its issuing event names, or, for an invoice issued before documents were recorded,
    the first stored (rendered and stored now if none is)."""
    sent = await pool.fetchrow(_sql("issuing_event"), invoice.id, SENT_TOPIC)
    recorded = recorded_digests(bytes(sent["state"])) if sent is not None else None
    if recorded is not None and kind in recorded:
        row = await pool.fetchrow(
            _sql("document_with_digest"), business_id, invoice.id, kind, recorded[kind]
        )
        if row is None:
            raise IssuedDocumentMissingError(
                f"invoice {invoice.id}: the issued {kind} ({recorded[kind]}) is not stored"
            )
        return IssuedDocument(bytes(row["content"]), str(row["sha256"]), rendered=False)
    row = await pool.fetchrow(_sql("first_document"), business_id, invoice.id, kind)
    if row is not None:
        return IssuedDocument(bytes(row["content"]), str(row["sha256"]), rendered=False)
    make = KINDS[kind][1]
    if make is None:
        marks = await branding(pool, business_id)
        content = (await renderer.render(business_id, invoice, issued=True, branding=marks)).content
    else:  # made from the PDF as served, so that the XML is the one embedded in it
        pdf = await issued_document(renderer, pool, business_id, invoice, version, "pdf")
        content = await anyio.to_thread.run_sync(make, pdf.content, invoice)
    await store_documents(pool, business_id, invoice.id, version, {kind: content})
    # Another request may have stored first: serve what the table holds, whoever wrote it.
    row = await pool.fetchrow(_sql("first_document"), business_id, invoice.id, kind)
    return IssuedDocument(bytes(row["content"]), str(row["sha256"]), rendered=True)
