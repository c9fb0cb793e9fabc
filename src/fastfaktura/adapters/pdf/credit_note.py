"""The credit note document, pure: a credit note (the read side's CreditNoteResponse) in, the
same document value as an invoice's out, with type code 381, the invoice it corrects (BT-25,
BT-26) and the reason. Rendered by the same pipeline (render.py, the PDF pool) and embedded
as Factur-X; `credit_note_cii` is its bare XML.

A credit note asks the client for no payment: its document carries no payment instructions
(no IBAN), and no French late-payment mention; the refund due, when there is one, is shown.
The other legal mentions of the seller's country stay (VAT franchise, org. number, F-skatt).
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from fastfaktura.adapters.pdf.cii import build_cii
from fastfaktura.adapters.pdf.document import (
    CREDIT_NOTE,
    FRENCH_VAT_FRANCHISE,
    DocumentLine,
    InvoiceDocument,
    PrecedingInvoice,
    VatAmount,
    document_party,
    french_franchise,
)
from fastfaktura.adapters.web.credit_note_page import credit_note_view
from fastfaktura.adapters.web.legal import credit_note_mentions
from fastfaktura.adapters.web.page import client_locale
from fastfaktura.readmodels.credit_note_view import CreditNoteResponse


def build_credit_note_document(note: CreditNoteResponse) -> InvoiceDocument:
    """The document of `note`, always as issued (a credit note is never a draft)."""
    locale = client_locale(note.buyer.locale)
    no_vat = all(item.rate == 0 for item in note.tax_breakdown)
    invoice_date = (
        None if isinstance(note.invoice_issue_date, msgspec.UnsetType) else note.invoice_issue_date
    )
    return InvoiceDocument(
        invoice_id=note.id,
        number=note.number,
        draft=False,
        locale=locale,
        currency=note.currency,
        issue_date=note.issue_date,
        # A credit note has no due date: nothing is asked of the client (see cii.py's terms).
        due_date=note.issue_date,
        seller=document_party(note.seller),
        buyer=document_party(note.buyer),
        lines=tuple(
            DocumentLine(
                description=line.description,
                quantity=Decimal(str(line.quantity)),
                unit_price_cents=line.unit_price_cents,
                tax_rate=Decimal(str(line.tax_rate)),
                net_cents=line.net_cents,
            )
            for line in note.lines
        ),
        breakdown=tuple(
            VatAmount(
                rate=Decimal(str(item.rate)), base_cents=item.base_cents, tax_cents=item.tax_cents
            )
            for item in note.tax_breakdown
        ),
        subtotal_cents=note.subtotal_cents,
        tax_cents=note.tax_cents,
        total_cents=note.total_cents,
        # EN 16931 BR-CO-16: the amount "due" is the total, nothing being prepaid on it.
        amount_paid_cents=0,
        amount_due_cents=note.total_cents,
        notes=None,
        iban=None,
        bic=None,
        public_url=note.public_url,
        legal_mentions=credit_note_mentions(note.seller, locale, all_rates_zero=no_vat),
        vat_exemption=FRENCH_VAT_FRANCHISE if french_franchise(note.seller) and no_vat else None,
        view=credit_note_view(note),
        type_code=CREDIT_NOTE,
        preceding_invoice=PrecedingInvoice(note.invoice_number, invoice_date),
        reason=note.reason,
        refund_due_cents=note.refund_due_cents,
    )


def credit_note_cii(note: CreditNoteResponse) -> bytes:
    """The credit note's CII XML (Factur-X EN 16931, type 381), as embedded in its PDF."""
    return build_cii(build_credit_note_document(note))
