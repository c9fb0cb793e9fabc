"""EN 16931 rules of the VAT categories we issue: S (standard), Z (zero rated), E (exempt),
AE (reverse charge) and G (export outside the EU). Each category's rules are one family
(BR-S-nn, BR-Z-nn, ...); each family member is one function here."""

from __future__ import annotations

from collections.abc import Iterable

from fastfaktura.domain.einvoice_rules.facts import buyer_country, category, exemption_reason
from fastfaktura.domain.einvoice_rules.model import EU_COUNTRIES, VAT_CATEGORIES, Document, Line
from fastfaktura.domain.einvoice_rules.registry import Broken, rule

EN = "EN 16931"
NAMES = {
    "S": "standard rated",
    "Z": "zero rated",
    "E": "exempt",
    "AE": "reverse charge",
    "G": "export outside the EU",
}


def _lines_of(doc: Document, cat: str) -> Iterable[tuple[int, Line]]:
    return ((i, line) for i, line in enumerate(doc.lines) if category(doc, line) == cat)


def _has(doc: Document, cat: str) -> bool:
    return any(True for _ in _lines_of(doc, cat))


def _seller_taxed(doc: Document) -> bool:
    """BT-31 or BT-32: a seller without a VAT number carries its registration as BT-32."""
    return bool(doc.seller.vat_number or doc.seller.company_id)


@rule("BR-CO-04", EN, "error", "Each line's VAT category is one we issue (S, Z, E, AE, G).")
def known_category(doc: Document) -> Broken:
    for index, line in enumerate(doc.lines):
        if category(doc, line) not in VAT_CATEGORIES:
            yield f"lines[{index}].vat_category", "must be one of: S, Z, E, AE, G"


@rule("BR-S-02", EN, "error", "S lines: the seller has a VAT number or tax registration.")
def standard_seller_vat(doc: Document) -> Broken:
    if _has(doc, "S") and not _seller_taxed(doc):
        yield "business.vat_number", "VAT is charged: the seller's VAT number is required"


@rule("BR-S-05", EN, "error", "S lines: the VAT rate is above 0.")
def standard_rate_positive(doc: Document) -> Broken:
    for index, line in _lines_of(doc, "S"):
        if line.vat_rate <= 0:
            yield f"lines[{index}].vat_rate", "a standard rated line has a rate above 0"


@rule("BR-S-10", EN, "error", "S lines: no VAT exemption reason.")
def standard_no_exemption(doc: Document) -> Broken:
    for index, line in _lines_of(doc, "S"):
        if line.vat_exemption_reason:
            yield f"lines[{index}].vat_exemption_reason", "a taxed line has no exemption reason"


@rule("BR-Z-02", EN, "error", "Z lines: the seller has a VAT number or tax registration.")
def zero_seller_vat(doc: Document) -> Broken:
    if _has(doc, "Z") and not _seller_taxed(doc):
        yield "business.vat_number", "a zero rated line needs the seller's VAT number"


@rule("BR-Z-05", EN, "error", "Z lines: the VAT rate is 0.")
def zero_rate_zero(doc: Document) -> Broken:
    yield from _rate_zero(doc, "Z")


@rule("BR-Z-10", EN, "error", "Z lines: no VAT exemption reason.")
def zero_no_exemption(doc: Document) -> Broken:
    for index, line in _lines_of(doc, "Z"):
        if line.vat_exemption_reason:
            yield (
                f"lines[{index}].vat_exemption_reason",
                "a zero rated line has no exemption reason",
            )


@rule("BR-E-02", EN, "error", "E lines: the seller has a VAT number or tax registration.")
def exempt_seller_identified(doc: Document) -> Broken:
    if _has(doc, "E") and not _seller_taxed(doc):
        yield "business.company_id", "an exempt line needs the seller's VAT number or company id"


@rule("BR-E-05", EN, "error", "E lines: the VAT rate is 0.")
def exempt_rate_zero(doc: Document) -> Broken:
    yield from _rate_zero(doc, "E")


@rule("BR-E-10", EN, "error", "E lines: an exemption reason (text or VATEX code).")
def exempt_reason(doc: Document) -> Broken:
    yield from _reason_required(doc, "E")


@rule(
    "BR-AE-02",
    EN,
    "error",
    "AE lines: the seller's VAT number and the buyer's VAT number or legal registration.",
)
def reverse_charge_parties(doc: Document) -> Broken:
    if not _has(doc, "AE"):
        return
    if not _seller_taxed(doc):
        yield "business.vat_number", "reverse charge needs the seller's VAT number"
    if not doc.buyer.is_business:
        yield "client.vat_number", "reverse charge needs the client's VAT number"


@rule("BR-AE-05", EN, "error", "AE lines: the VAT rate is 0.")
def reverse_charge_rate_zero(doc: Document) -> Broken:
    yield from _rate_zero(doc, "AE")


@rule("BR-AE-10", EN, "error", "AE lines: an exemption reason (text or VATEX code).")
def reverse_charge_reason(doc: Document) -> Broken:
    yield from _reason_required(doc, "AE")


@rule("BR-G-02", EN, "error", "G lines: the seller has a VAT number (BT-31).")
def export_seller_vat(doc: Document) -> Broken:
    if _has(doc, "G") and not doc.seller.vat_number:
        yield "business.vat_number", "an export outside the EU needs the seller's VAT number"


@rule("BR-G-05", EN, "error", "G lines: the VAT rate is 0.")
def export_rate_zero(doc: Document) -> Broken:
    yield from _rate_zero(doc, "G")


@rule("BR-G-10", EN, "error", "G lines: an exemption reason (text or VATEX code).")
def export_reason(doc: Document) -> Broken:
    yield from _reason_required(doc, "G")


@rule(
    "FF-VAT-CATEGORY",
    "FastFaktura",
    "error",
    "A line's own category fits the facts: AE for an EU business client in another country, "
    "G for a client outside the EU (or abroad, from a seller outside the EU).",
)
def stated_category_fits(doc: Document) -> Broken:
    country = buyer_country(doc)
    for index, line in enumerate(doc.lines):
        if line.vat_category == "AE" and (
            country == doc.seller.country or country not in EU_COUNTRIES
        ):
            yield (
                f"lines[{index}].vat_category",
                "reverse charge is for a client in another EU country",
            )
        # An export: to a client outside the EU, or abroad from a seller outside it (Norway).
        exported = country not in EU_COUNTRIES or (
            doc.seller.country not in EU_COUNTRIES and country != doc.seller.country
        )
        if line.vat_category == "G" and not exported:
            yield f"lines[{index}].vat_category", "G is for a client outside the EU"


def _rate_zero(doc: Document, cat: str) -> Broken:
    for index, line in _lines_of(doc, cat):
        if line.vat_rate != 0:
            yield f"lines[{index}].vat_rate", f"a line {NAMES[cat]} ({cat}) has a VAT rate of 0"


def _reason_required(doc: Document, cat: str) -> Broken:
    for index, line in _lines_of(doc, cat):
        if not exemption_reason(doc, line):
            yield (
                f"lines[{index}].vat_exemption_reason",
                f"a line {NAMES[cat]} ({cat}) states why no VAT is charged",
            )


@rule(
    "BR-S-08",
    EN,
    "error",
    "Each VAT rate's taxable amount is the sum of the line nets at that rate (BT-116).",
)
def base_per_rate(doc: Document) -> Broken:
    for item in doc.vat_breakdown:
        lines_base = sum(line.net_cents for line in doc.lines if line.vat_rate == item.rate)
        if lines_base != item.base_cents:
            yield "tax_breakdown", f"the base at {item.rate} % is not the sum of its lines"
