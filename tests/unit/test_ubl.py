"""The UBL (Peppol BIS Billing 3.0) document, element by element: identifiers and their
schemes, the credit note's reference to its invoice, VAT categories, payment means, exact
amounts; and that the independent validators used by the matrix do reject a broken document."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from lxml import etree
from peppol import check_rules, validate_xsd

from fastfaktura.adapters.einvoice.identifiers import endpoint, legal_scheme
from fastfaktura.adapters.einvoice.ubl import (
    NotAnInvoice,
    build_ubl,
    ubl_credit_note,
    ubl_invoice,
)
from fastfaktura.adapters.einvoice.ubl_parties import NSMAP
from fastfaktura.adapters.pdf.document import DocumentLine, VatAmount, build_document
from tests.unit.einvoice_samples import buyer, invoice_response, peppol_fatal, sample, seller


def xml(doc: Any) -> etree._Element:
    return etree.fromstring(build_ubl(doc))


def texts(root: etree._Element, path: str) -> list[str]:
    return [str(value) for value in root.xpath(path, namespaces=NSMAP)]


@pytest.mark.parametrize(
    ("country", "company_id", "vat", "email", "expected"),
    [
        ("FR", "303 265 045 00011", None, None, ("0009", "30326504500011")),  # SIRET
        ("FR", "303265045", "FR40303265045", None, ("0002", "303265045")),  # SIREN
        ("NO", "974 760 673", "NO974760673MVA", None, ("0192", "974760673")),
        ("SE", "556036-0793", None, None, ("0007", "5560360793")),
        ("DK", "13585628", None, None, ("0184", "13585628")),
        ("FR", None, "FR 40 303265045", None, ("9957", "FR40303265045")),  # VAT only
        ("DE", "HRB 1234", "DE136695976", None, ("9930", "DE136695976")),
        ("GB", None, None, "ap@example.com", ("EM", "ap@example.com")),
        ("GB", None, "GB980780684", None, None),  # no Peppol scheme known here
    ],
)
def test_the_electronic_address_takes_the_registers_scheme(
    country: str,
    company_id: str | None,
    vat: str | None,
    email: str | None,
    expected: tuple[str, str] | None,
) -> None:
    assert endpoint(country, company_id, vat, email) == expected


def test_a_register_number_of_the_wrong_form_has_no_scheme() -> None:
    assert legal_scheme("NO", "97476067") is None  # 8 digits: not an org. nr
    assert legal_scheme("FR", "RCS Paris 303265045") is None
    assert legal_scheme(None, "303265045") is None


def test_the_seller_and_buyer_carry_their_identifiers() -> None:
    root = xml(sample("nb", "NOK", "standard"))
    seller_party = "cac:AccountingSupplierParty/cac:Party"
    assert texts(root, f"{seller_party}/cbc:EndpointID/@schemeID") == ["0192"]
    assert texts(root, f"{seller_party}/cbc:EndpointID/text()") == ["974760673"]
    assert texts(root, f"{seller_party}/cac:PartyLegalEntity/cbc:CompanyID/@schemeID") == ["0192"]
    assert texts(root, f"{seller_party}/cac:PartyLegalEntity/cbc:RegistrationName/text()") == [
        "Fjord Konsult AS"
    ]
    assert texts(root, f"{seller_party}/cac:PartyName/cbc:Name/text()") == ["Fjord Konsult"]
    # VAT number (BT-31) and the Norwegian register (NO-R-002).
    assert texts(root, f"{seller_party}/cac:PartyTaxScheme/cbc:CompanyID/text()") == [
        "NO974760673MVA",
        "Foretaksregisteret",
    ]
    assert texts(root, f"{seller_party}/cac:PartyTaxScheme/cac:TaxScheme/cbc:ID/text()") == [
        "VAT",
        "TAX",
    ]
    address = f"{seller_party}/cac:PostalAddress"
    assert texts(root, f"{address}/cbc:StreetName/text()") == ["Karl Johans gate 1"]
    assert texts(root, f"{address}/cbc:PostalZone/text()") == ["0154"]
    assert texts(root, f"{address}/cbc:CityName/text()") == ["Oslo"]
    buyer_party = "cac:AccountingCustomerParty/cac:Party"
    assert texts(root, f"{buyer_party}/cbc:EndpointID/text()") == ["923609016"]
    assert texts(root, f"{buyer_party}/cac:Contact/cbc:ElectronicMail/text()") == [
        "ap@kunde.example"
    ]


def test_a_swedish_seller_approved_for_f_skatt_says_so() -> None:
    root = xml(sample("sv", "SEK", "standard"))
    assert "Godkänd för F-skatt" in texts(
        root, "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID/text()"
    )
    assert texts(
        root, "cac:AccountingSupplierParty/cac:Party/cac:PostalAddress/cbc:PostalZone/text()"
    ) == ["111 51"]


def test_a_client_without_country_is_in_the_sellers() -> None:
    invoice = invoice_response(
        "fr",
        "EUR",
        [("Conseil", "1", 10000, "20")],
        seller_fields=seller("FR"),
        buyer_fields=buyer("fr", country=None, vat_number=None, company_id=None, address=None),
    )
    root = xml(build_document(invoice, issued=True))
    buyer_party = "cac:AccountingCustomerParty/cac:Party"
    assert texts(
        root, f"{buyer_party}/cac:PostalAddress/cac:Country/cbc:IdentificationCode/text()"
    ) == ["FR"]
    # No register number nor VAT number: the email is its address.
    assert texts(root, f"{buyer_party}/cbc:EndpointID/@schemeID") == ["EM"]


def test_a_credit_note_refers_to_the_invoice_it_corrects() -> None:
    doc = sample("fr", "EUR", "standard", credit=True)
    root = etree.fromstring(ubl_credit_note(doc))
    assert etree.QName(root).localname == "CreditNote"
    assert texts(root, "cbc:CreditNoteTypeCode/text()") == ["381"]
    reference = "cac:BillingReference/cac:InvoiceDocumentReference"
    assert texts(root, f"{reference}/cbc:ID/text()") == ["F2026-00042"]
    assert texts(root, f"{reference}/cbc:IssueDate/text()") == ["2026-03-02"]
    assert texts(root, "cbc:Note/text()") == ["Two days billed twice"]
    assert texts(root, "cbc:BuyerReference/text()") == ["F2026-00042"]  # the invoice's
    assert texts(root, "cac:PaymentTerms/cbc:Note/text()") == [
        "Ce montant vient en déduction de la facture F2026-00042."
    ]
    assert root.find("cac:PaymentMeans", NSMAP) is None  # nothing to pay
    assert texts(root, "cac:CreditNoteLine/cbc:CreditedQuantity/text()") == ["2.5"]
    with pytest.raises(NotAnInvoice):
        ubl_invoice(doc)
    with pytest.raises(NotAnInvoice):
        ubl_credit_note(sample("fr", "EUR", "standard"))


def test_the_293b_franchise_is_category_e_with_its_reason() -> None:
    root = xml(sample("fr", "EUR", "franchise_293b"))
    category = "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory"
    assert texts(root, f"{category}/cbc:ID/text()") == ["E"]
    assert texts(root, f"{category}/cbc:TaxExemptionReasonCode/text()") == ["VATEX-FR-FRANCHISE"]
    assert texts(root, f"{category}/cbc:TaxExemptionReason/text()") == [
        "TVA non applicable, art. 293 B du CGI"
    ]
    assert texts(root, "cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory/cbc:ID/text()") == ["E"]
    # A seller under the franchise has no VAT number: its SIRET is its tax registration
    # (BT-32), which BR-E-02 asks for when there is no VAT identifier.
    scheme = "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme"
    assert texts(root, f"{scheme}/cbc:CompanyID/text()") == ["30326504500011"]
    assert texts(root, f"{scheme}/cac:TaxScheme/cbc:ID/text()") == ["TAX"]


def test_zero_rated_lines_are_category_z_without_reason() -> None:
    root = xml(sample("nb", "DKK", "mixed"))  # a Norwegian seller's client in Norway
    categories = texts(root, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID/text()")
    assert categories.count("Z") == 1
    assert texts(root, "//cbc:TaxExemptionReasonCode") == []


def test_an_export_is_category_g_with_its_reason_as_the_invoice_decided() -> None:
    root = xml(sample("en", "DKK", "mixed"))  # a British seller's client in Norway
    categories = texts(root, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID/text()")
    assert categories.count("G") == 1
    assert texts(root, "//cac:TaxSubtotal//cbc:TaxExemptionReasonCode/text()") == ["VATEX-EU-G"]
    lines = texts(root, "cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory/cbc:ID/text()")
    assert "G" in lines


def test_the_payment_reference_is_bt_83() -> None:
    document = sample("fr", "EUR", "standard", iban="FR7630006000011234567890189")
    assert document.terms is not None
    root = xml(document)
    assert texts(root, "cac:PaymentMeans/cbc:PaymentID/text()") == [
        document.terms.payment_reference
    ]


def test_a_discount_line_is_a_negative_quantity_at_a_positive_price() -> None:
    root = xml(sample("en", "EUR", "discount"))
    assert texts(root, "cac:InvoiceLine/cbc:InvoicedQuantity/text()") == ["12", "-1", "1"]
    assert texts(root, "cac:InvoiceLine/cac:Price/cbc:PriceAmount/text()") == [
        "49.90",
        "59.88",
        "100.00",
    ]
    assert texts(root, "cac:InvoiceLine/cbc:LineExtensionAmount/text()") == [
        "598.80",
        "-59.88",
        "100.00",
    ]


@pytest.mark.parametrize(("currency", "code"), [("EUR", "58"), ("NOK", "30"), ("SEK", "30")])
def test_payment_means_credit_transfer_to_the_iban(currency: str, code: str) -> None:
    root = xml(sample("nb", currency, "standard"))
    assert texts(root, "cac:PaymentMeans/cbc:PaymentMeansCode/text()") == [code]
    assert texts(root, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID/text()") == [
        "NO9386011117947"
    ]
    assert texts(
        root,
        "cac:PaymentMeans/cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID/text()",
    ) == ["DNBANOKK"]


def test_amounts_are_exact_to_the_cent_however_large() -> None:
    doc = sample("en", "EUR", "standard")
    big = 10**15 - 1  # the largest amount the domain allows
    doc = dataclasses.replace(
        doc,
        lines=(DocumentLine("Big", doc.lines[0].quantity, big, doc.lines[0].tax_rate, big),),
        breakdown=(VatAmount(doc.breakdown[0].rate, big, big),),
        subtotal_cents=big,
        tax_cents=big,
        total_cents=big,
        amount_due_cents=big,
    )
    root = xml(doc)
    assert texts(root, "cac:LegalMonetaryTotal/cbc:PayableAmount/text()") == ["9999999999999.99"]


def test_the_independent_validators_reject_a_broken_document() -> None:
    """The matrix's validators are not vacuous: elements out of the XSD's order and a wrong
    VAT total are refused."""
    root = xml(sample("en", "EUR", "mixed"))
    assert validate_xsd(etree.tostring(root))[0]
    issue_date = root.find("cbc:IssueDate", NSMAP)
    assert issue_date is not None
    root.append(issue_date)  # now after the lines
    assert not validate_xsd(etree.tostring(root))[0]
    root = xml(sample("en", "EUR", "mixed"))
    tax = root.find("cac:TaxTotal/cbc:TaxAmount", NSMAP)
    assert tax is not None
    tax.text = "1.00"
    assert any(f.severity == "fatal" for f in check_rules(etree.tostring(root)))
    # The one finding the tests set aside (peppol_fatal) is only the package's misreading of
    # a tax registration: a VAT identifier without its country prefix is still refused.
    root = xml(sample("fr", "EUR", "franchise_293b"))
    assert peppol_fatal(etree.tostring(root)) == []
    registration = root.find(
        "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cac:TaxScheme/cbc:ID", NSMAP
    )
    assert registration is not None
    registration.text = "VAT"
    assert [f.split()[1] for f in peppol_fatal(etree.tostring(root))] == ["BR-CO-09"]
