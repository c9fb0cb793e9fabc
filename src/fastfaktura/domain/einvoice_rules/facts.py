"""Facts the rules share: a line's VAT category and exemption reason, the buyer's country."""

from __future__ import annotations

from typing import Final

from fastfaktura.domain.einvoice_rules.model import Document, Line
from fastfaktura.domain.vat_categories import default_category

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
    """BT-151 from the facts (API.md "VAT categories"), decided as the invoice decides it
    (domain/vat_categories.py), so that the checks judge what is issued."""
    seller = {"country": doc.seller.country, "vat_exempt_293b": doc.vat_exempt_293b}
    buyer = {
        "country": doc.buyer.country,
        "vat_number": doc.buyer.vat_number,
        "company_id": doc.buyer.company_id,
    }
    return default_category(line.vat_rate, seller, buyer)


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
