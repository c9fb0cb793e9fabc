"""The invoice document, pure: the invoice's frozen data in, one immutable value out (no I/O).

The same value feeds the PDF template (its `view`, formatted by the public page's Babel helpers
for the client's locale) and the Factur-X XML (its raw amounts, dates and parties).

A document that is not a draft is the invoice *as issued*: what it asked the client to pay on
the day it was sent. Payments recorded later and status changes are the live public page's
business, not the archived document's: the PDF of a sent invoice is rendered once and kept
byte for byte, so it must not depend on when it was first asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final
from uuid import UUID

import msgspec

from fastfaktura.adapters.pdf.e_invoicing import (
    DocumentTerms,
    category_lines,
    document_terms,
)
from fastfaktura.adapters.web.credit_note_page import CreditNoteView
from fastfaktura.adapters.web.labels import CREDIT_NOTE_LABELS, LABELS
from fastfaktura.adapters.web.legal import (  # the mentions' wording, shared with the page
    FRENCH_CONTRACTUAL_LATE_PAYMENT,
    FRENCH_LATE_PAYMENT,
    FRENCH_RECOVERY_INDEMNITY_CENTS,
    FRENCH_VAT_FRANCHISE,
    french_franchise,
    legal_mentions,
    mentions_for,
)
from fastfaktura.adapters.web.page import InvoiceView, client_locale, invoice_view
from fastfaktura.readmodels.invoice_view import Buyer, InvoiceResponse, Seller

# The visible mark on every page of a draft, per client locale.
DRAFT_MARKS: Final = {"fr": "BROUILLON", "en": "DRAFT", "nb": "UTKAST", "sv": "UTKAST"}
# Words only the PDF needs (the rest are the public page's, adapters/web/labels.py).
PDF_LABELS: Final[dict[str, dict[str, str]]] = {
    "fr": {"page": "Page", "of": "/", "public_link": "Consulter en ligne"},
    "en": {"page": "Page", "of": "/", "public_link": "View online"},
    "nb": {"page": "Side", "of": "/", "public_link": "Se på nett"},
    "sv": {"page": "Sida", "of": "/", "public_link": "Visa online"},
}


@dataclass(frozen=True)
class Party:
    name: str
    legal_name: str | None
    address: str | None
    country: str | None  # ISO 3166-1 alpha-2
    vat_number: str | None
    company_id: str | None
    email: str | None


@dataclass(frozen=True)
class DocumentLine:
    description: str
    quantity: Decimal
    unit_price_cents: int
    tax_rate: Decimal
    net_cents: int
    # BT-151 and its exemption (BT-120/BT-121), as domain/vat_categories.py decided them;
    # empty on a credit note's lines (cii.py then falls back on the rate).
    vat_category: str = ""
    vat_exemption_reason: str | None = None
    vat_exemption_code: str | None = None


@dataclass(frozen=True)
class VatAmount:
    """A VAT breakdown row (BG-23), by category and rate."""

    rate: Decimal
    base_cents: int
    tax_cents: int
    vat_category: str = ""
    vat_exemption_reason: str | None = None
    vat_exemption_code: str | None = None


# EN 16931 BT-3 (UNTDID 1001): the kinds of document rendered here.
COMMERCIAL_INVOICE: Final = "380"
CREDIT_NOTE: Final = "381"


@dataclass(frozen=True)
class PrecedingInvoice:
    """The invoice a credit note corrects: BT-25 (its number) and BT-26 (its issue date)."""

    number: str
    issue_date: date | None


@dataclass(frozen=True)
class InvoiceDocument:
    """An invoice (type 380) or a credit note (381: the same parts, plus the invoice it
    corrects and why; nothing to pay but a refund when one is due). `invoice_id` is the
    document's own id (a credit note's id for a credit note)."""

    invoice_id: UUID
    number: str
    draft: bool
    locale: str
    currency: str
    issue_date: date
    due_date: date
    seller: Party
    buyer: Party
    lines: tuple[DocumentLine, ...]
    breakdown: tuple[VatAmount, ...]
    subtotal_cents: int
    tax_cents: int
    total_cents: int
    amount_paid_cents: int
    amount_due_cents: int
    notes: str | None
    iban: str | None
    bic: str | None
    public_url: str | None
    legal_mentions: tuple[str, ...]
    # France, art. 293 B du CGI: no VAT is charged (Factur-X category E with this reason).
    vat_exemption: str | None
    # The same, formatted for `locale` (money, quantities, rates, dates, country names);
    # a credit note's is a CreditNoteView.
    view: InvoiceView | CreditNoteView
    type_code: str = COMMERCIAL_INVOICE
    preceding_invoice: PrecedingInvoice | None = None
    reason: str | None = None
    refund_due_cents: int = 0
    # E-invoicing terms (payment reference BT-83, BT-111, the French reform's fields), with
    # the words the PDF shows of them (adapters/pdf/e_invoicing.py). None: a credit note.
    terms: DocumentTerms | None = None

    @property
    def is_credit_note(self) -> bool:
        return self.type_code == CREDIT_NOTE

    @property
    def labels(self) -> dict[str, str]:
        words = {**LABELS[self.locale], **PDF_LABELS[self.locale]}
        if self.is_credit_note:
            words |= CREDIT_NOTE_LABELS[self.locale]
        return words

    @property
    def draft_mark(self) -> str | None:
        return DRAFT_MARKS[self.locale] if self.draft else None

    @property
    def filename(self) -> str:
        return pdf_filename(self.number)


def pdf_filename(number: str) -> str:
    """`{number}.pdf`; numbers are letters, digits, '-' and '_' (anything else is replaced)."""
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in number)
    return f"{safe or 'invoice'}.pdf"


def document_party(party: Seller | Buyer) -> Party:
    return Party(
        name=party.name,
        legal_name=getattr(party, "legal_name", None),
        address=party.address,
        country=party.country.upper() if party.country else None,
        vat_number=party.vat_number,
        company_id=party.company_id,
        email=party.email,
    )


def build_document(invoice: InvoiceResponse, *, issued: bool) -> InvoiceDocument:
    """The document of `invoice`: as issued once it was sent, else a draft as it is now
    (a draft, or a draft cancelled without ever being sent: see StoredInvoice.was_sent)."""
    draft = not issued
    no_vat = all(item.rate == 0 for item in invoice.tax_breakdown)
    franchise = french_franchise(invoice.seller) and no_vat
    if not draft:
        # As issued: nothing was paid yet, the whole total was due (see the module docstring).
        invoice = msgspec.structs.replace(
            invoice, amount_paid_cents=0, amount_due_cents=invoice.total_cents
        )
    return InvoiceDocument(
        invoice_id=invoice.id,
        number=invoice.number,
        draft=draft,
        locale=client_locale(invoice.buyer.locale),
        currency=invoice.currency,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        seller=document_party(invoice.seller),
        buyer=document_party(invoice.buyer),
        lines=tuple(
            DocumentLine(
                description=line.description,
                quantity=Decimal(str(line.quantity)),
                unit_price_cents=line.unit_price_cents,
                tax_rate=Decimal(str(line.tax_rate)),
                net_cents=line.net_cents,
                **category_lines(line),
            )
            for line in invoice.lines
        ),
        breakdown=tuple(
            VatAmount(
                rate=Decimal(str(item.rate)),
                base_cents=item.base_cents,
                tax_cents=item.tax_cents,
                **category_lines(item),
            )
            for item in invoice.tax_breakdown
        ),
        subtotal_cents=invoice.subtotal_cents,
        tax_cents=invoice.tax_cents,
        total_cents=invoice.total_cents,
        amount_paid_cents=invoice.amount_paid_cents,
        amount_due_cents=invoice.amount_due_cents,
        notes=invoice.notes,
        iban=invoice.seller.iban,
        bic=invoice.seller.bic,
        # A draft has no public page (it is a 404 until the invoice is sent).
        public_url=None if draft else invoice.public_url,
        legal_mentions=legal_mentions(
            invoice.seller, client_locale(invoice.buyer.locale), all_rates_zero=no_vat
        )
        + mentions_for(invoice, client_locale(invoice.buyer.locale), franchise=franchise),
        vat_exemption=FRENCH_VAT_FRANCHISE if franchise else None,
        view=invoice_view(invoice),
        terms=document_terms(invoice, client_locale(invoice.buyer.locale)),
    )


__all__ = [
    "FRENCH_CONTRACTUAL_LATE_PAYMENT",
    "FRENCH_LATE_PAYMENT",
    "FRENCH_RECOVERY_INDEMNITY_CENTS",
    "FRENCH_VAT_FRANCHISE",
    "french_franchise",
    "legal_mentions",
]
