"""Rules on the parties' identifiers and the payment account, checked with python-stdnum and
schwifty (identifiers.py): the Peppol and national rules where one names the check, our own
(FF-*) where none does."""

from __future__ import annotations

from fastfaktura.domain.einvoice_rules.facts import category
from fastfaktura.domain.einvoice_rules.identifiers import (
    bic_valid,
    company_id_valid,
    iban_valid,
    vat_number_valid,
)
from fastfaktura.domain.einvoice_rules.model import Document, Party
from fastfaktura.domain.einvoice_rules.registry import Broken, rule

PEPPOL = "Peppol BIS 3.0"


def _parties(doc: Document) -> tuple[tuple[str, Party], ...]:
    return (("business", doc.seller), ("client", doc.buyer))


def _company_ids(doc: Document, country: str) -> Broken:
    """The parties of `country` whose company id is not valid there."""
    for path, party in _parties(doc):
        own_country = party.country or (doc.seller.country if path == "client" else None)
        if (
            party.company_id
            and own_country == country
            and company_id_valid(country, party.company_id) is False
        ):
            yield f"{path}.company_id", f"not a valid {country} organisation number"


@rule("PEPPOL-COMMON-R041", PEPPOL, "error", "A Norwegian organisation number is valid (MOD11).")
def norwegian_org_number(doc: Document) -> Broken:
    yield from _company_ids(doc, "NO")


@rule("PEPPOL-COMMON-R042", PEPPOL, "error", "A Danish CVR number is valid (8 digits, MOD11).")
def danish_cvr(doc: Document) -> Broken:
    yield from _company_ids(doc, "DK")


@rule("PEPPOL-COMMON-R049", PEPPOL, "error", "A Swedish organisation number is valid (Luhn).")
def swedish_org_number(doc: Document) -> Broken:
    yield from _company_ids(doc, "SE")


@rule(
    "NO-R-001",
    "Norway (EHF)",
    "error",
    "A Norwegian seller's VAT number is NO + a valid organisation number + MVA.",
)
def norwegian_seller_vat(doc: Document) -> Broken:
    vat = doc.seller.vat_number
    if doc.seller.country == "NO" and vat and vat_number_valid(vat) is not True:
        yield "business.vat_number", "must be NO, the 9-digit organisation number, then MVA"


@rule("DK-R-002", "Denmark", "error", "A Danish seller states its CVR number (BT-30).")
def danish_seller_cvr(doc: Document) -> Broken:
    if doc.seller.country == "DK" and not doc.seller.company_id:
        yield "business.company_id", "a Danish seller states its CVR number"


@rule(
    "FF-SELLER-VAT",
    "FastFaktura",
    "error",
    "The seller's VAT number is valid for its country (check digits; EU, NO, GB).",
)
def seller_vat_valid(doc: Document) -> Broken:
    vat = doc.seller.vat_number
    # A Norwegian seller's number is NO-R-001's.
    if vat and doc.seller.country != "NO" and vat_number_valid(vat) is False:
        yield "business.vat_number", "not a valid VAT number (its check digits do not match)"


@rule(
    "FF-BUYER-VAT",
    "FastFaktura",
    "warning",
    "The client's VAT number is valid for its country (an error under reverse charge, AE).",
)
def buyer_vat_valid(doc: Document) -> Broken:
    vat = doc.buyer.vat_number
    reverse_charge = any(category(doc, line) == "AE" for line in doc.lines)
    if vat and not reverse_charge and vat_number_valid(vat) is False:
        yield "client.vat_number", "not a valid VAT number (its check digits do not match)"


@rule(
    "FF-BUYER-VAT-AE",
    "FastFaktura",
    "error",
    "Under reverse charge (AE), the client's VAT number is valid.",
)
def reverse_charge_buyer_vat_valid(doc: Document) -> Broken:
    vat = doc.buyer.vat_number
    reverse_charge = any(category(doc, line) == "AE" for line in doc.lines)
    if vat and reverse_charge and vat_number_valid(vat) is False:
        yield "client.vat_number", "reverse charge needs the client's valid VAT number"


@rule("FF-IBAN", "FastFaktura", "error", "The business's IBAN is valid (ISO 13616 checksum).")
def seller_iban_valid(doc: Document) -> Broken:
    if doc.seller.iban and not iban_valid(doc.seller.iban):
        yield "business.iban", "not a valid IBAN"


@rule("FF-BIC", "FastFaktura", "error", "The business's BIC is valid (ISO 9362).")
def seller_bic_valid(doc: Document) -> Broken:
    if doc.seller.bic and not bic_valid(doc.seller.bic):
        yield "business.bic", "not a valid BIC"
