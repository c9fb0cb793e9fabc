"""A credit note for people, pure: its view data (formatted for the client's locale, like the
invoice's, see page.py) and its public page's HTML, served at `/c/{token}`
(api/public_credit_notes.py).

A credit note refers to the invoice it corrects (its number and issue date) and says why. It
asks for no payment: what it credits is deducted from the invoice, and what the client paid
beyond that is the refund due, shown when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from fastfaktura.adapters.web.branding import NO_BRANDING, Branding
from fastfaktura.adapters.web.labels import CREDIT_NOTE_LABELS, LABELS
from fastfaktura.adapters.web.legal import credit_note_mentions
from fastfaktura.adapters.web.page import (
    LineView,
    PartyView,
    TaxView,
    branding_context,
    client_locale,
    long_date,
    money,
    party_view,
    percent,
    quantity,
    render_template,
)
from fastfaktura.readmodels.credit_note_view import CreditNoteResponse


@dataclass(frozen=True)
class CreditNoteView:
    """Everything a credit note's template shows, already formatted for `locale`."""

    locale: str
    number: str
    issue_date: str
    invoice_number: str
    invoice_issue_date: str | None
    # "Credit note for invoice F2026-00001 of 24 November 2026", in the client's language.
    refers_to: str
    deducted_from: str
    reason: str
    seller: PartyView
    buyer: PartyView
    lines: list[LineView]
    breakdown: list[TaxView]
    subtotal: str
    tax: str
    total: str
    refund_due: str
    show_refund_due: bool
    # The seller's mentions that concern a credit note, as its PDF prints them.
    legal_mentions: tuple[str, ...] = ()


def credit_note_words(locale: str) -> dict[str, str]:
    """The page's words and the credit note's own, for `locale`."""
    return {**LABELS[locale], **CREDIT_NOTE_LABELS[locale]}


def credit_note_view(note: CreditNoteResponse) -> CreditNoteView:
    """The credit note as the client reads it, in the client's locale."""
    locale = client_locale(note.buyer.locale)
    words = CREDIT_NOTE_LABELS[locale]
    currency = note.currency
    invoice_date = (
        None
        if isinstance(note.invoice_issue_date, msgspec.UnsetType)
        else long_date(note.invoice_issue_date, locale)
    )
    refers_to = (
        words["refers_to"].format(number=note.invoice_number, date=invoice_date)
        if invoice_date
        else words["refers_to_undated"].format(number=note.invoice_number)
    )
    return CreditNoteView(
        locale=locale,
        number=note.number,
        issue_date=long_date(note.issue_date, locale),
        invoice_number=note.invoice_number,
        invoice_issue_date=invoice_date,
        refers_to=refers_to,
        deducted_from=words["deducted_from"].format(number=note.invoice_number),
        reason=note.reason,
        seller=party_view(note.seller, locale),
        buyer=party_view(note.buyer, locale),
        lines=[
            LineView(
                description=line.description,
                quantity=quantity(line.quantity, locale),
                unit_price=money(line.unit_price_cents, currency, locale),
                vat_rate=percent(line.tax_rate, locale),
                net=money(line.net_cents, currency, locale),
            )
            for line in note.lines
        ],
        breakdown=[
            TaxView(
                rate=percent(item.rate, locale),
                base=money(item.base_cents, currency, locale),
                tax=money(item.tax_cents, currency, locale),
            )
            for item in note.tax_breakdown
        ],
        subtotal=money(note.subtotal_cents, currency, locale),
        tax=money(note.tax_cents, currency, locale),
        total=money(note.total_cents, currency, locale),
        refund_due=money(note.refund_due_cents, currency, locale),
        show_refund_due=note.refund_due_cents > 0,
        legal_mentions=credit_note_mentions(
            note.seller,
            locale,
            all_rates_zero=all(item.rate == 0 for item in note.tax_breakdown),
        ),
    )


def render_credit_note(
    note: CreditNoteResponse, pdf_url: str | None = None, branding: Branding = NO_BRANDING
) -> str:
    """The credit note's public page. `pdf_url`: where its PDF downloads from (default: the
    page's own address + `/pdf`, relative, as for an invoice's page)."""
    view = credit_note_view(note)
    return render_template(
        "credit_note.html",
        lang=view.locale,
        page=view,
        t=credit_note_words(view.locale),
        pdf_url=pdf_url or f"{note.public_url.rsplit('/', 1)[-1]}/pdf",
        **branding_context(view.locale, branding),
    )
