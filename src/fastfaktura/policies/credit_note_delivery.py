"""What the delivery worker sends for a credit note: its message in the client's language
(adapters/delivery/messages.py `render_credit_note`), with its stored Factur-X PDF attached to
an email (the same bytes the API and the public page serve)."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

import asyncpg

from fastfaktura.adapters.delivery.messages import (
    Attachment,
    CreditNoteFacts,
    Message,
    render_credit_note,
)
from fastfaktura.adapters.delivery.transports import DeliveryError
from fastfaktura.adapters.pdf.credit_notes import credit_note_as_issued
from fastfaktura.adapters.pdf.pool import PdfRenderer
from fastfaktura.readmodels.business_view import BusinessResponse
from fastfaktura.readmodels.queries.credit_notes import find_stored_credit_note


async def credit_note_message(
    pool: asyncpg.Pool,
    pdfs: PdfRenderer,
    base_url: str,
    business: BusinessResponse,
    credit_note_id: UUID,
    channel: str,
) -> tuple[Message, str]:
    """The message sending the credit note by `channel` (email | sms), and its public URL."""
    stored = await find_stored_credit_note(pool, business.id, credit_note_id, base_url)
    if stored is None:
        raise DeliveryError("the credit note's read model is not there yet")
    note = stored.note
    facts = CreditNoteFacts(
        number=note.number,
        invoice_number=note.invoice_number,
        seller=business.legal_name or business.name,
        buyer=note.buyer.name or "",
        currency=note.currency,
        total_cents=note.total_cents,
        refund_due_cents=note.refund_due_cents,
        url=note.public_url,
        locale=note.buyer.locale or business.locale,
    )
    message = render_credit_note(facts, channel=channel)
    if channel == "email":
        documents = await credit_note_as_issued(
            pdfs, pool, business.id, stored.as_issued, stored.version
        )
        attachment = Attachment(documents.filename, "application/pdf", documents.pdf)
        message = replace(message, attachments=(attachment,))
    return message, note.public_url
