"""The legal mentions a seller's country requires on its documents, pure, in the client's
locale: printed by the PDF (adapters/pdf/document.py) and shown on the public pages, from one
source, so the page never says less than the document.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

import msgspec
from babel.numbers import format_currency, format_decimal

from fastfaktura.adapters.web.e_invoicing_labels import VAT_ON_DEBITS_MENTION, category_mentions
from fastfaktura.readmodels.invoice_view import InvoiceResponse, Seller

# France (C. com. L441-10, L441-9): the late-payment penalty rate and the EUR 40 flat recovery
# indemnity (the exact amount must appear), and the early-payment discount terms. The rate is
# the legal default (ECB refinancing rate + 10 points): a contractual rate needs a business
# setting the API does not have yet. `{indemnity}` is 40 EUR formatted for the locale.
FRENCH_LATE_PAYMENT: Final = {
    "fr": (
        "En cas de retard de paiement, des pénalités sont exigibles au taux d'intérêt appliqué "
        "par la BCE à son opération de refinancement la plus récente majoré de 10 points, ainsi "
        "qu'une indemnité forfaitaire pour frais de recouvrement de {indemnity} (art. L441-10 "
        "du Code de commerce). Pas d'escompte pour paiement anticipé."
    ),
    "en": (
        "Late payment: penalties at the European Central Bank's most recent refinancing rate "
        "plus 10 percentage points, and a fixed indemnity of {indemnity} for recovery costs "
        "(French Commercial Code, art. L441-10). No discount for early payment."
    ),
    "nb": (
        "Ved for sen betaling påløper forsinkelsesrente tilsvarende Den europeiske "
        "sentralbankens siste refinansieringsrente pluss 10 prosentpoeng, samt en fast "
        "kompensasjon på {indemnity} for inndrivelseskostnader (fransk handelslov, art. "
        "L441-10). Ingen rabatt ved tidlig betaling."
    ),
    "sv": (
        "Vid försenad betalning debiteras dröjsmålsränta motsvarande Europeiska "
        "centralbankens senaste refinansieringsränta plus 10 procentenheter, samt en fast "
        "ersättning på {indemnity} för indrivningskostnader (franska handelslagen, art. "
        "L441-10). Ingen rabatt vid förtida betalning."
    ),
}
FRENCH_RECOVERY_INDEMNITY_CENTS: Final = 4000


FRENCH_VAT_FRANCHISE: Final = "TVA non applicable, art. 293 B du CGI"
# A contractual rate (C. com. L441-10 allows it, at least 3 times the legal interest rate).
FRENCH_CONTRACTUAL_LATE_PAYMENT: Final = {
    "fr": (
        "En cas de retard de paiement, des pénalités sont exigibles au taux de "
        "{rate}\u00a0% par an, ainsi qu'une indemnité forfaitaire pour frais de recouvrement "
        "de {indemnity} (art. L441-10 du Code de commerce). Pas d'escompte pour paiement "
        "anticipé."
    ),
    "en": (
        "Late payment: penalties at {rate}% a year, and a fixed indemnity of {indemnity} for "
        "recovery costs (French Commercial Code, art. L441-10). No discount for early payment."
    ),
    "nb": (
        "Ved for sen betaling påløper forsinkelsesrente på {rate}\u00a0% per år, samt en fast "
        "kompensasjon på {indemnity} for inndrivelseskostnader (fransk handelslov, art. "
        "L441-10). Ingen rabatt ved tidlig betaling."
    ),
    "sv": (
        "Vid försenad betalning debiteras dröjsmålsränta på {rate}\u00a0% per år, samt en fast "
        "ersättning på {indemnity} för indrivningskostnader (franska handelslagen, art. "
        "L441-10). Ingen rabatt vid förtida betalning."
    ),
}


def french_franchise(seller: Seller) -> bool:
    return (seller.country or "").upper() == "FR" and seller.vat_exempt_293b


def legal_mentions(seller: Seller, locale: str, *, all_rates_zero: bool = False) -> tuple[str, ...]:
    """The mentions the seller's country requires, from the profile frozen into the invoice.

    France: "TVA non applicable, art. 293 B du CGI" for a business under the VAT franchise
    whose invoice charges no VAT; late-payment penalties (the contractual rate when the
    profile sets one, else the legal default) and the EUR 40 indemnity. Norway: the
    organisation number followed by "MVA" when VAT-registered, and "Foretaksregisteret" for
    an AS or ASA. Sweden: "Godkänd för F-skatt" when the business says it is approved.
    """
    country = (seller.country or "").upper()
    if country == "FR":
        indemnity = format_currency(
            Decimal(FRENCH_RECOVERY_INDEMNITY_CENTS).scaleb(-2), "EUR", locale=locale
        )
        mentions = []
        if seller.vat_exempt_293b and all_rates_zero:
            mentions.append(FRENCH_VAT_FRANCHISE)  # the legal wording is French, always
        if seller.late_payment_rate is not None:
            rate = format_decimal(Decimal(str(seller.late_payment_rate)), locale=locale)
            mentions.append(
                FRENCH_CONTRACTUAL_LATE_PAYMENT[locale].format(rate=rate, indemnity=indemnity)
            )
        else:
            mentions.append(FRENCH_LATE_PAYMENT[locale].format(indemnity=indemnity))
        return tuple(mentions)
    if country == "SE" and seller.f_skatt:
        return ("Godkänd för F-skatt",)
    if country == "NO" and seller.company_id:
        mention = f"Org.nr. {seller.company_id}"
        if seller.vat_number:
            mention += " MVA"
        legal_name = (seller.legal_name or seller.name).strip()
        if legal_name.upper().endswith((" AS", " ASA")):
            mention += " · Foretaksregisteret"
        return (mention,)
    return ()


def credit_note_mentions(seller: Seller, locale: str, *, all_rates_zero: bool) -> tuple[str, ...]:
    """The seller's legal mentions that concern a credit note: for a French seller only the
    VAT franchise (late-payment penalties concern a sum owed by the client); elsewhere the
    same as on an invoice."""
    if (seller.country or "").upper() == "FR":
        franchise = french_franchise(seller) and all_rates_zero
        return (FRENCH_VAT_FRANCHISE,) if franchise else ()
    return legal_mentions(seller, locale, all_rates_zero=all_rates_zero)


def mentions_for(invoice: InvoiceResponse, locale: str, *, franchise: bool) -> tuple[str, ...]:
    """The mentions of the VAT categories found (reverse charge, export, an exemption's
    reason) and of the VAT-on-debits option."""
    categories = [
        (_given(item.vat_category) or "", _given(item.vat_exemption_reason))
        for item in invoice.tax_breakdown
    ]
    mentions = category_mentions(categories, locale, franchise=franchise)
    if invoice.seller.vat_on_debits:
        mentions += (VAT_ON_DEBITS_MENTION[locale],)
    return mentions


def _given(value: Any) -> Any:
    return None if value is msgspec.UNSET else value
