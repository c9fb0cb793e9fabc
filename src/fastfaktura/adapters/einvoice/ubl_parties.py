"""The seller and the buyer in a UBL 2.1 document (Peppol BIS Billing 3.0), pure.

A party: its electronic address (EndpointID with its EAS scheme, identifiers.py), its trading
name when the legal name differs, its postal address (the free-text address split into street
lines, and postcode and city when the last line reads "0150 Oslo"), its VAT number, one tax
registration (BT-32: a VAT-exempt seller's register number, or the "Foretaksregisteret"
(Norway) or "Godkänd för F-skatt" (Sweden) its legal mentions state, NO-R-002, SE-R-005), its
legal name and register number, its email.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from lxml import etree

from fastfaktura.adapters.einvoice.identifiers import endpoint, legal_scheme, register_number
from fastfaktura.adapters.pdf.document import Party

CAC: Final = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC: Final = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
NSMAP: Final = {"cac": CAC, "cbc": CBC}
# The registrations a Nordic seller states, as worded in its legal mentions (document.py).
TAX_REGISTRATIONS: Final = ("Foretaksregisteret", "Godkänd för F-skatt")
# "75011 Paris", "0150 Oslo", "111 22 Stockholm", "2100 København Ø".
_POSTCODE_CITY = re.compile(r"^(\d{3} \d{2}|\d{4,5})\s+(\S.*)$")


def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    prefix, _, name = tag.partition(":")
    element = etree.SubElement(parent, f"{{{NSMAP[prefix]}}}{name}", attrs)
    if text is not None:
        element.text = text
    return element


def address_node(
    parent: etree._Element, address: str | None, country: str, tag: str = "cac:PostalAddress"
) -> None:
    """A UBL address (a party's PostalAddress, or a delivery location's Address)."""
    node = sub(parent, tag)
    lines = [ln.strip() for ln in (address or "").splitlines() if ln.strip()]
    postcode_city = _POSTCODE_CITY.match(lines[-1]) if len(lines) > 1 else None
    if postcode_city is not None:
        lines = lines[:-1]
    if lines:
        sub(node, "cbc:StreetName", lines[0])
    if len(lines) > 1:
        sub(node, "cbc:AdditionalStreetName", lines[1])
    if postcode_city is not None:
        sub(node, "cbc:CityName", postcode_city.group(2))
        sub(node, "cbc:PostalZone", postcode_city.group(1))
    if len(lines) > 2:
        sub(sub(node, "cac:AddressLine"), "cbc:Line", ", ".join(lines[2:]))
    sub(sub(node, "cac:Country"), "cbc:IdentificationCode", country)


def _tax_scheme(parent: etree._Element, company_id: str, scheme: str) -> None:
    node = sub(parent, "cac:PartyTaxScheme")
    sub(node, "cbc:CompanyID", company_id)
    sub(sub(node, "cac:TaxScheme"), "cbc:ID", scheme)


def party(
    parent: etree._Element,
    tag: str,
    who: Party,
    mentions: Iterable[str] = (),
    tax_registration: str | None = None,
    *,
    fallback_country: str | None = None,
) -> None:
    """`AccountingSupplierParty` or `AccountingCustomerParty` of `who`. `mentions`: the
    seller's legal mentions; `tax_registration`: a tax registration besides the VAT number
    (BT-32); `fallback_country`: the country of a party that states none."""
    node = sub(sub(parent, tag), "cac:Party")
    address = endpoint(who.country, who.company_id, who.vat_number, who.email)
    if address is not None:
        sub(node, "cbc:EndpointID", address[1], schemeID=address[0])
    legal_name = who.legal_name or who.name
    if legal_name != who.name:
        sub(sub(node, "cac:PartyName"), "cbc:Name", who.name)
    country = who.country or fallback_country
    if country:
        address_node(node, who.address, country)
    if who.vat_number:
        _tax_scheme(node, who.vat_number, "VAT")
    registrations = [r for r in TAX_REGISTRATIONS if any(r in m for m in mentions)]
    if tax_registration:
        registrations.insert(0, register_number(tax_registration))
    # Peppol allows one tax registration besides the VAT number (BT-32).
    for registration in registrations[:1]:
        _tax_scheme(node, registration, "TAX")
    legal = sub(node, "cac:PartyLegalEntity")
    sub(legal, "cbc:RegistrationName", legal_name)
    if who.company_id:
        scheme = legal_scheme(who.country, who.company_id)
        if scheme is None:
            sub(legal, "cbc:CompanyID", who.company_id)
        else:
            sub(legal, "cbc:CompanyID", register_number(who.company_id), schemeID=scheme)
    if who.email:
        sub(sub(node, "cac:Contact"), "cbc:ElectronicMail", who.email)
