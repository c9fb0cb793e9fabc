"""Facts the rules share: a line's VAT category and exemption reason, the buyer's country."""

from __future__ import annotations

from typing import Final

from fastfaktura.domain.einvoice_rules.model import EU_COUNTRIES, Document, Line

# The VATEX code (BT-121) a category takes when the line states no reason of its own.
DEFAULT_EXEMPTION: Final = {
    "AE": "VATEX-EU-AE",
    "G": "VATEX-EU-G",
}
FRANCHISE_EXEMPTION: Final = "VATEX-FR-FRANCHISE"


def buyer_country(doc: Document) -> str | None:
    """BT-55: the client's country, or the seller's when the client has none (API.md)."""
    return doc.buyer.country or doc.seller.country


def vat_prefix_country(vat_number: str) -> str:
    """The country a VAT number's prefix names (Greece writes EL)."""
    prefix = vat_number[:2].upper()
    return "GR" if prefix == "EL" else prefix


def derived_category(doc: Document, line: Line) -> str:
    """BT-151 from the facts (API.md "VAT categories"): S above 0 %; at 0 %: E under an
    exemption, AE for a B2B client with a VAT number in another EU country, G for a client
    outside the EU, else Z."""
    if line.vat_rate > 0:
        return "S"
    if doc.vat_exempt_293b:
        return "E"
    seller, buyer = doc.seller.country, buyer_country(doc)
    vat = doc.buyer.vat_number
    if (
        vat
        and seller in EU_COUNTRIES
        and buyer in EU_COUNTRIES
        and buyer != seller
        and vat_prefix_country(vat) != seller
    ):
        return "AE"
    if seller in EU_COUNTRIES and buyer is not None and buyer not in EU_COUNTRIES:
        return "G"
    return "Z"


def category(doc: Document, line: Line) -> str:
    """The line's own category when it states one, else the derived one."""
    return line.vat_category or derived_category(doc, line)


def exemption_reason(doc: Document, line: Line) -> str | None:
    """BT-120/BT-121 as the e-invoice will carry it: the line's own, else the category's."""
    if line.vat_exemption_reason or line.vat_category:
        # A line that states its own category states its own reason.
        return line.vat_exemption_reason
    cat = derived_category(doc, line)
    if cat == "E":
        return FRANCHISE_EXEMPTION
    return DEFAULT_EXEMPTION.get(cat)


def is_french_b2b(doc: Document) -> bool:
    """A French seller's invoice to a French business client (the reform's B2B scope)."""
    return doc.seller.country == "FR" and buyer_country(doc) == "FR" and doc.buyer.is_business
