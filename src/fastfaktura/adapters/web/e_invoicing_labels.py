"""What the PDF and the public page say of an invoice's e-invoicing terms, per client locale:
the payment reference (BT-83) under its local name, the VAT categories' legal mentions, the
French reform's mentions (operation category, delivery address, VAT on debits) and the VAT in
the accounting currency (BT-111).

Every locale has the same keys (tests/unit checks it, as for labels.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

E_INVOICING_LABELS: Final[dict[str, dict[str, str]]] = {
    "fr": {
        "payment_reference": "Référence de paiement",
        "delivery_address": "Adresse de livraison",
        "operation_category": "Catégorie de l'opération",
        "goods": "Livraison de biens",
        "services": "Prestation de services",
        "mixed": "Livraison de biens et prestation de services",
        "tax_in_accounting": "TVA en {currency} (taux de change {rate})",
    },
    "en": {
        "payment_reference": "Payment reference",
        "delivery_address": "Delivery address",
        "operation_category": "Operation category",
        "goods": "Supply of goods",
        "services": "Supply of services",
        "mixed": "Supply of goods and services",
        "tax_in_accounting": "VAT in {currency} (exchange rate {rate})",
    },
    "nb": {
        "payment_reference": "Betalingsreferanse",
        "delivery_address": "Leveringsadresse",
        "operation_category": "Type leveranse",
        "goods": "Levering av varer",
        "services": "Levering av tjenester",
        "mixed": "Levering av varer og tjenester",
        "tax_in_accounting": "MVA i {currency} (valutakurs {rate})",
    },
    "sv": {
        "payment_reference": "Betalningsreferens",
        "delivery_address": "Leveransadress",
        "operation_category": "Typ av transaktion",
        "goods": "Leverans av varor",
        "services": "Tillhandahållande av tjänster",
        "mixed": "Leverans av varor och tjänster",
        "tax_in_accounting": "Moms i {currency} (växelkurs {rate})",
    },
}

# The mention each zero-rate category needs on the invoice (E's is its exemption reason).
CATEGORY_MENTIONS: Final[dict[str, dict[str, str]]] = {
    "AE": {
        "fr": "Autoliquidation",
        "en": "Reverse charge",
        "nb": "Omvendt avgiftsplikt",
        "sv": "Omvänd betalningsskyldighet",
    },
    "G": {
        "fr": "Exportation hors de l'Union européenne : TVA non applicable",
        "en": "Export outside the EU: VAT not charged",
        "nb": "Eksport utenfor EU: merverdiavgift ikke beregnet",
        "sv": "Export utanför EU: ingen mervärdesskatt",
    },
}
VAT_ON_DEBITS_MENTION: Final = {
    "fr": "Option pour le paiement de la taxe d'après les débits",
    "en": "VAT paid on debits (option chosen by the seller)",
    "nb": "Merverdiavgift betales etter fakturering (debetmetoden)",
    "sv": "Mervärdesskatt redovisas enligt faktureringsmetoden",
}


def reference_label(reference: str, seller_country: str | None, locale: str) -> str:
    """A Norwegian seller's KID and a Swedish seller's OCR number are known by those names
    (domain/payment_reference.py); an ISO 11649 reference (`RF...`) by the locale's word."""
    if not reference.startswith("RF"):
        country = (seller_country or "").upper()
        return {"NO": "KID", "SE": "OCR"}.get(
            country, E_INVOICING_LABELS[locale]["payment_reference"]
        )
    return E_INVOICING_LABELS[locale]["payment_reference"]


def category_mentions(
    categories: Iterable[tuple[str, str | None]], locale: str, *, franchise: bool
) -> tuple[str, ...]:
    """The legal mention of each category found (once each, in order): AE and G their
    localised wording, E its exemption reason (the 293 B franchise's is printed already)."""
    found: list[str] = []
    for category, reason in categories:
        if category in CATEGORY_MENTIONS:
            mention = CATEGORY_MENTIONS[category][locale]
        elif category == "E" and reason and not franchise:
            mention = reason
        else:
            continue
        if mention not in found:
            found.append(mention)
    return tuple(found)
