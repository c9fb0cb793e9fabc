"""Every e-invoice we emit is valid, checked by validators that are not ours: the UBL against
the OASIS UBL 2.1 XSDs and the Peppol BIS Billing 3.0 rule subset that `peppol-ubl-validate`
implements, the CII against the Factur-X EN 16931 XSD (`factur-x`'s `xml_check_xsd`).

The matrix: every client locale x every currency the API takes x every VAT case (standard,
zero rated, the French 293 B franchise, mixed rates, discount lines), as an invoice and as its
credit note: 240 documents, built in memory (no database), all checked by default (3 s on a
quiet machine). `FASTFAKTURA_EINVOICE_MATRIX=covering` checks a covering subset of 40 (every
locale x every VAT case x invoice and credit note, the currency turning through all six).
"""

from __future__ import annotations

import os
from decimal import Decimal
from itertools import product

import facturx
import pytest
from lxml import etree
from peppol import validate_xsd

from fastfaktura.adapters.einvoice.ubl import CUSTOMIZATION_ID, PROFILE_ID, build_ubl
from fastfaktura.adapters.einvoice.ubl_parties import NSMAP
from fastfaktura.adapters.pdf.cii import build_cii
from fastfaktura.adapters.pdf.document import InvoiceDocument
from tests.unit.einvoice_samples import VAT_CASES, peppol_fatal, sample

LOCALES = ("fr", "en", "nb", "sv")
CURRENCIES = ("EUR", "USD", "GBP", "NOK", "SEK", "DKK")
FULL_MATRIX = list(product(LOCALES, CURRENCIES, sorted(VAT_CASES), (False, True)))
# Each (locale, VAT case, kind) once, the currency turning through all six.
COVERING = [
    (locale, CURRENCIES[index % len(CURRENCIES)], case, credit)
    for index, (locale, case, credit) in enumerate(
        product(LOCALES, sorted(VAT_CASES), (False, True))
    )
]
MATRIX = COVERING if os.environ.get("FASTFAKTURA_EINVOICE_MATRIX") == "covering" else FULL_MATRIX


def cents(text: str) -> int:
    return int(Decimal(text) * 100)


def check_ubl(xml: bytes, doc: InvoiceDocument) -> None:
    valid, errors = validate_xsd(xml)
    assert valid, errors
    assert peppol_fatal(xml) == []
    root = etree.fromstring(xml)
    kind = "CreditNote" if doc.is_credit_note else "Invoice"
    assert etree.QName(root).localname == kind
    assert root.findtext("cbc:CustomizationID", namespaces=NSMAP) == CUSTOMIZATION_ID
    assert root.findtext("cbc:ProfileID", namespaces=NSMAP) == PROFILE_ID
    assert root.findtext(f"cbc:{kind}TypeCode", namespaces=NSMAP) == doc.type_code
    assert root.findtext("cbc:DocumentCurrencyCode", namespaces=NSMAP) == doc.currency
    # Exact amounts, from the integer cents: totals, VAT per category, every line.
    totals = root.find("cac:LegalMonetaryTotal", NSMAP)
    assert totals is not None
    assert cents(totals.findtext("cbc:LineExtensionAmount", namespaces=NSMAP) or "") == (
        doc.subtotal_cents
    )
    assert cents(totals.findtext("cbc:TaxInclusiveAmount", namespaces=NSMAP) or "") == (
        doc.total_cents
    )
    assert cents(totals.findtext("cbc:PayableAmount", namespaces=NSMAP) or "") == (
        doc.amount_due_cents
    )
    subtotals = root.findall("cac:TaxTotal/cac:TaxSubtotal", NSMAP)
    assert [
        (
            Decimal(s.findtext("cac:TaxCategory/cbc:Percent", namespaces=NSMAP) or ""),
            cents(s.findtext("cbc:TaxableAmount", namespaces=NSMAP) or ""),
            cents(s.findtext("cbc:TaxAmount", namespaces=NSMAP) or ""),
        )
        for s in subtotals
    ] == [(v.rate, v.base_cents, v.tax_cents) for v in doc.breakdown]
    nets = root.xpath(f"cac:{kind}Line/cbc:LineExtensionAmount/text()", namespaces=NSMAP)
    assert [cents(n) for n in nets] == [line.net_cents for line in doc.lines]
    currencies = set(root.xpath("//@currencyID"))
    assert currencies == {doc.currency}
    # Peppol-only rules the package does not implement: PEPPOL-EN16931-R003 (a buyer
    # reference), R010/R020 (both parties' electronic address, with its scheme).
    assert root.findtext("cbc:BuyerReference", namespaces=NSMAP)
    # BR-S-02, BR-Z-02, BR-E-02 (not in the package either): the seller's VAT identifier
    # (BT-31) or tax registration (BT-32).
    assert root.xpath(
        "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID/text()",
        namespaces=NSMAP,
    )
    for role in ("AccountingSupplierParty", "AccountingCustomerParty"):
        endpoint = root.find(f"cac:{role}/cac:Party/cbc:EndpointID", NSMAP)
        assert endpoint is not None
        assert endpoint.text
        assert endpoint.get("schemeID")


@pytest.mark.parametrize(("locale", "currency", "case", "credit"), MATRIX)
def test_every_document_is_valid_ubl_and_cii(
    locale: str, currency: str, case: str, credit: bool
) -> None:
    doc = sample(locale, currency, case, credit=credit)
    check_ubl(build_ubl(doc), doc)
    assert facturx.xml_check_xsd(build_cii(doc), flavor="factur-x", level="en16931")


def test_the_default_run_covers_every_locale_currency_and_vat_case() -> None:
    """240 = 4 locales x 6 currencies x 5 VAT cases x (invoice, credit note); the covering
    run has each locale, each currency, each VAT case, and both kinds with every VAT case."""
    assert len(FULL_MATRIX) == 240
    assert set(VAT_CASES) == {"standard", "zero", "franchise_293b", "mixed", "discount"}
    assert set(COVERING) <= set(FULL_MATRIX)
    assert {c[0] for c in COVERING} == set(LOCALES)
    assert {c[1] for c in COVERING} == set(CURRENCIES)
    assert {(c[2], c[3]) for c in COVERING} == set(product(VAT_CASES, (False, True)))
