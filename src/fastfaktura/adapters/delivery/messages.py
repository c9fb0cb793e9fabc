"""The messages sent for an invoice or a credit note, in the client's language. Pure: data in,
text out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

from babel.dates import format_date
from babel.numbers import format_currency

_TEXTS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "invoice_subject": "Invoice {number} from {seller}",
        "reminder_subject": "Reminder: invoice {number} from {seller}",
        "invoice_body": (
            "Hello {buyer},\n\nPlease find invoice {number} for {total}, due on {due}.\n\n"
            "View and pay it here: {url}\n\nKind regards,\n{seller}"
        ),
        "reminder_body": (
            "Hello {buyer},\n\nAccording to our records, {amount_due} is still due on invoice "
            "{number}, which was due on {due}.\n\nView and pay it here: {url}\n\n"
            "Kind regards,\n{seller}"
        ),
        "invoice_sms": "{seller}: invoice {number}, {total}, due {due}. {url}",
        "reminder_sms": (
            "{seller}: reminder, invoice {number}, {amount_due} still due (due {due}). {url}"
        ),
    },
    "fr": {
        "invoice_subject": "Facture {number} de {seller}",
        "reminder_subject": "Rappel : facture {number} de {seller}",
        "invoice_body": (
            "Bonjour {buyer},\n\nVeuillez trouver la facture {number} d'un montant de {total}, "
            "à régler au plus tard le {due}.\n\nConsulter et régler la facture : {url}\n\n"
            "Cordialement,\n{seller}"
        ),
        "reminder_body": (
            "Bonjour {buyer},\n\nSauf erreur de notre part, la facture {number} arrivée à "
            "échéance le {due} présente un solde de {amount_due}.\n\n"
            "Consulter et régler la facture : {url}\n\nCordialement,\n{seller}"
        ),
        "invoice_sms": "{seller} : facture {number}, {total}, échéance le {due}. {url}",
        "reminder_sms": (
            "{seller} : rappel, facture {number}, reste dû {amount_due} (échéance le {due}). {url}"
        ),
    },
    "nb": {
        "invoice_subject": "Faktura {number} fra {seller}",
        "reminder_subject": "Påminnelse: faktura {number} fra {seller}",
        "invoice_body": (
            "Hei {buyer},\n\nHer er faktura {number} på {total}, med forfall {due}.\n\n"
            "Se og betal fakturaen her: {url}\n\nMed vennlig hilsen\n{seller}"
        ),
        "reminder_body": (
            "Hei {buyer},\n\nVi har ikke registrert betaling av faktura {number}, som forfalt "
            "{due}. Utestående beløp er {amount_due}.\n\nSe og betal fakturaen her: {url}\n\n"
            "Med vennlig hilsen\n{seller}"
        ),
        "invoice_sms": "{seller}: faktura {number}, {total}, forfall {due}. {url}",
        "reminder_sms": (
            "{seller}: påminnelse, faktura {number}, {amount_due} utestående (forfall {due}). {url}"
        ),
    },
    "sv": {
        "invoice_subject": "Faktura {number} från {seller}",
        "reminder_subject": "Påminnelse: faktura {number} från {seller}",
        "invoice_body": (
            "Hej {buyer},\n\nHär kommer faktura {number} på {total}, att betala senast {due}.\n\n"
            "Visa och betala fakturan här: {url}\n\nMed vänliga hälsningar\n{seller}"
        ),
        "reminder_body": (
            "Hej {buyer},\n\nVi har ännu inte fått betalt för faktura {number}, som förföll "
            "{due}. Kvar att betala: {amount_due}.\n\nVisa och betala fakturan här: {url}\n\n"
            "Med vänliga hälsningar\n{seller}"
        ),
        "invoice_sms": "{seller}: faktura {number}, {total}, förfaller {due}. {url}",
        "reminder_sms": (
            "{seller}: påminnelse, faktura {number}, {amount_due} kvar"
            " att betala (förföll {due}). {url}"
        ),
    },
}
LOCALES: Final = tuple(_TEXTS)

# A credit note's message: it asks for no payment; it says what was credited on which invoice,
# and the refund due when there is one ({refund}: that sentence, or nothing).
_CREDIT_NOTE_TEXTS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "subject": "Credit note {number} from {seller}",
        "body": (
            "Hello {buyer},\n\nPlease find credit note {number} for {total}, which credits "
            "invoice {invoice_number}.{refund}\n\nView it here: {url}\n\nKind regards,\n{seller}"
        ),
        "refund": " We owe you a refund of {refund_due}.",
        "sms": "{seller}: credit note {number}, {total}, for invoice {invoice_number}. {url}",
    },
    "fr": {
        "subject": "Avoir {number} de {seller}",
        "body": (
            "Bonjour {buyer},\n\nVeuillez trouver l'avoir {number} d'un montant de {total}, "
            "relatif à la facture {invoice_number}.{refund}\n\nConsulter l'avoir : {url}\n\n"
            "Cordialement,\n{seller}"
        ),
        "refund": " Nous vous devons un remboursement de {refund_due}.",
        "sms": "{seller} : avoir {number}, {total}, sur la facture {invoice_number}. {url}",
    },
    "nb": {
        "subject": "Kreditnota {number} fra {seller}",
        "body": (
            "Hei {buyer},\n\nHer er kreditnota {number} på {total}, som krediterer faktura "
            "{invoice_number}.{refund}\n\nSe kreditnotaen her: {url}\n\n"
            "Med vennlig hilsen\n{seller}"
        ),
        "refund": " Vi skal tilbakebetale {refund_due} til deg.",
        "sms": "{seller}: kreditnota {number}, {total}, for faktura {invoice_number}. {url}",
    },
    "sv": {
        "subject": "Kreditfaktura {number} från {seller}",
        "body": (
            "Hej {buyer},\n\nHär kommer kreditfaktura {number} på {total}, som krediterar "
            "faktura {invoice_number}.{refund}\n\nVisa kreditfakturan här: {url}\n\n"
            "Med vänliga hälsningar\n{seller}"
        ),
        "refund": " Vi återbetalar {refund_due} till dig.",
        "sms": "{seller}: kreditfaktura {number}, {total}, för faktura {invoice_number}. {url}",
    },
}


@dataclass(frozen=True)
class InvoiceFacts:
    """What a message says about an invoice."""

    number: str
    seller: str
    buyer: str
    currency: str
    total_cents: int
    amount_due_cents: int
    due_date: date
    url: str
    locale: str


@dataclass(frozen=True)
class CreditNoteFacts:
    """What a message says about a credit note."""

    number: str
    invoice_number: str
    seller: str
    buyer: str
    currency: str
    total_cents: int
    refund_due_cents: int
    url: str
    locale: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Message:
    subject: str | None  # None for SMS
    body: str
    attachments: tuple[Attachment, ...] = ()


def money(cents: int, currency: str, locale: str) -> str:
    return format_currency(Decimal(cents) / 100, currency, locale=locale)


def render(facts: InvoiceFacts, *, channel: str, kind: str) -> Message:
    """The message of `kind` (invoice | reminder) for `channel` (email | sms)."""
    locale = facts.locale if facts.locale in _TEXTS else "en"
    texts = _TEXTS[locale]
    values = {
        "number": facts.number,
        "seller": facts.seller,
        "buyer": facts.buyer,
        "total": money(facts.total_cents, facts.currency, locale),
        "amount_due": money(facts.amount_due_cents, facts.currency, locale),
        "due": format_date(facts.due_date, format="long", locale=locale),
        "url": facts.url,
    }
    if channel == "sms":
        return Message(None, texts[f"{kind}_sms"].format(**values))
    return Message(
        texts[f"{kind}_subject"].format(**values), texts[f"{kind}_body"].format(**values)
    )


def render_credit_note(facts: CreditNoteFacts, *, channel: str) -> Message:
    """The message sending a credit note by `channel` (email | sms)."""
    locale = facts.locale if facts.locale in _CREDIT_NOTE_TEXTS else "en"
    texts = _CREDIT_NOTE_TEXTS[locale]
    values = {
        "number": facts.number,
        "invoice_number": facts.invoice_number,
        "seller": facts.seller,
        "buyer": facts.buyer,
        "total": money(facts.total_cents, facts.currency, locale),
        "url": facts.url,
    }
    if channel == "sms":
        return Message(None, texts["sms"].format(**values))
    refund = (
        texts["refund"].format(refund_due=money(facts.refund_due_cents, facts.currency, locale))
        if facts.refund_due_cents > 0
        else ""
    )
    return Message(texts["subject"].format(**values), texts["body"].format(**values, refund=refund))
