"""Issuing a credit note with its documents (a credit, or the cancel of an issued invoice): the
credit note is decided and checked without being recorded, its PDF, CII and UBL are rendered
from that decision and stored (adapters/pdf/credit_notes.py), then it is issued only as decided,
its `issued` event recording their SHA-256. Rendering stays out of the numbering lock and its
retries: a decision that no longer holds when recording (its number taken meanwhile) records
nothing and is decided and rendered again. Within one process, a business's credit notes are
issued one at a time (`_issuing`), so that concurrent requests wait their turn instead of
rendering decisions that lose the race; across processes the retry above still holds."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TypeVar
from uuid import UUID

from fastfaktura.adapters.deadlines import run_in_thread
from fastfaktura.adapters.pdf.credit_notes import produce_credit_note_documents
from fastfaktura.adapters.pdf.issued import store_documents
from fastfaktura.api.services import Services
from fastfaktura.application import Written
from fastfaktura.application.credit_notes import CreditNoteDecidedOtherwise, RenderedAs
from fastfaktura.domain.credit_note import CreditNote
from fastfaktura.domain.errors import ConflictError
from fastfaktura.domain.invoice import Invoice
from fastfaktura.readmodels.models import CreditNotesReadModel
from fastfaktura.readmodels.queries.credit_notes import credit_note_from_row

T = TypeVar("T")
_ROWS = CreditNotesReadModel()
# Decisions rendered before giving up with a 409 (each lost to a concurrent credit note).
RENDER_ATTEMPTS = 3
# Business id -> the lock its credit notes are issued under in this process (while in use).
_issuing: weakref.WeakValueDictionary[UUID, asyncio.Lock] = weakref.WeakValueDictionary()


async def issue_with_documents(
    svc: Services,
    business_id: UUID,
    decide: Callable[[], CreditNote | None],
    record: Callable[[RenderedAs | None], Written[T]],
) -> Written[T]:
    """`record` the credit note `decide` decides (None: the command issues none, as a draft's
    cancel), with its documents rendered and stored first. A full render queue raises (503)
    before anything is recorded."""
    lock = _issuing.get(business_id)
    if lock is None:
        lock = _issuing[business_id] = asyncio.Lock()
    async with lock:
        return await _issue(svc, business_id, decide, record)


async def _issue(
    svc: Services,
    business_id: UUID,
    decide: Callable[[], CreditNote | None],
    record: Callable[[RenderedAs | None], Written[T]],
) -> Written[T]:
    for _ in range(RENDER_ATTEMPTS):
        decided = await run_in_thread(decide, svc.settings.database_timeout)
        rendered = None
        if decided is not None:
            row = _ROWS.rows(decided)["rm_credit_notes"][0]
            note = credit_note_from_row(row, svc.settings.base_url(), for_documents=True)
            produced = await produce_credit_note_documents(svc.pdfs, svc.pool, business_id, note)
            digests = await store_documents(
                svc.pool, business_id, decided.id, decided.version, produced
            )
            rendered = RenderedAs(decided, digests)
        try:
            return await svc.execute(lambda: record(rendered))  # noqa: B023 (awaited here)
        except CreditNoteDecidedOtherwise:
            continue  # the stored documents of the lost decision are named by no event
    raise ConflictError("the invoice was credited concurrently; retry the request")


async def cancel_with_documents(
    svc: Services, business_id: UUID, invoice_id: UUID, reason: str | None
) -> Written[Invoice]:
    """Cancel the invoice: an issued one's credit note is issued with its documents."""
    return await issue_with_documents(
        svc,
        business_id,
        lambda: svc.app.credit_note_to_issue(business_id, invoice_id, reason, cancel=True),
        lambda rendered: svc.app.cancel_invoice(business_id, invoice_id, reason, rendered),
    )
