"""The UBL 2.1 XML of an invoice document following Peppol BIS Billing 3.0 (Norway's EHF 3.0),
pure: an `Invoice` (type code 380) or a `CreditNote` (381, with the invoice it corrects in
`BillingReference`, BT-25/BT-26), from the same document value as the PDF and the CII.

Element order follows the OASIS UBL 2.1 XSDs (the tests check every document against them).
Amounts come from integer cents, written with two decimals; a discount line is a negative
quantity at a positive price (BR-27), as in the CII. VAT categories and the exemption reason
are the CII's (cii.py `vat_category`), so both documents always say the same.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from lxml import etree

from fastfaktura.adapters.einvoice.ubl_parties import NSMAP, address_node, party, sub
from fastfaktura.adapters.pdf.cii import (
    UNIT,
    amount,
    breakdown_category,
    credit_note_terms,
    decimal_text,
    tax_currency_of,
    vat_category,
)
from fastfaktura.adapters.pdf.document import InvoiceDocument

INVOICE_NS: Final = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS: Final = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CUSTOMIZATION_ID: Final = (
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
)
PROFILE_ID: Final = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
# UNCL 4461: 58 SEPA credit transfer (euro only), 30 any other credit transfer.
SEPA_CREDIT_TRANSFER: Final = "58"
CREDIT_TRANSFER: Final = "30"


class NotAnInvoice(ValueError):
    """`ubl_invoice` was given a credit note's document, or `ubl_credit_note` an invoice's."""


def ubl_invoice(doc: InvoiceDocument) -> bytes:
    """The UBL `Invoice` of an invoice's document (type 380), UTF-8 encoded."""
    if doc.is_credit_note:
        raise NotAnInvoice("a credit note's document: use ubl_credit_note")
    return _ubl(doc)


def ubl_credit_note(doc: InvoiceDocument) -> bytes:
    """The UBL `CreditNote` of a credit note's document (type 381), UTF-8 encoded."""
    if not doc.is_credit_note:
        raise NotAnInvoice("an invoice's document: use ubl_invoice")
    return _ubl(doc)


def build_ubl(doc: InvoiceDocument) -> bytes:
    """`ubl_invoice` or `ubl_credit_note`, by the document's type code."""
    return _ubl(doc)


def _money(parent: etree._Element, tag: str, cents: int, currency: str) -> None:
    sub(parent, tag, amount(cents), currencyID=currency)


def _category(
    parent: etree._Element,
    tag: str,
    rate: Decimal,
    category: tuple[str, str | None, str | None],
    *,
    reason: bool,
) -> None:
    """A VAT category: its code and rate (a line's BT-151/BT-152), and in the breakdown
    (BT-118) its exemption reason and code (BT-120/BT-121) for E, AE and G. `category` is
    (code, reason, reason code), the CII's (cii.py), so both documents say the same."""
    code, exemption_reason, exemption_code = category
    node = sub(parent, tag)
    sub(node, "cbc:ID", code)
    sub(node, "cbc:Percent", decimal_text(rate))
    if reason and code in ("E", "AE", "G"):
        if exemption_code:
            sub(node, "cbc:TaxExemptionReasonCode", exemption_code)
        if exemption_reason:
            sub(node, "cbc:TaxExemptionReason", exemption_reason)
    sub(sub(node, "cac:TaxScheme"), "cbc:ID", "VAT")


def _ubl(doc: InvoiceDocument) -> bytes:
    credit = doc.is_credit_note
    kind = "CreditNote" if credit else "Invoice"
    namespace = CREDIT_NOTE_NS if credit else INVOICE_NS
    nsmap: dict[str | None, str] = {None: namespace, "cac": NSMAP["cac"], "cbc": NSMAP["cbc"]}
    root = etree.Element(f"{{{namespace}}}{kind}", nsmap=nsmap)
    sub(root, "cbc:CustomizationID", CUSTOMIZATION_ID)
    sub(root, "cbc:ProfileID", PROFILE_ID)
    sub(root, "cbc:ID", doc.number)
    sub(root, "cbc:IssueDate", doc.issue_date.isoformat())
    if not credit:
        sub(root, "cbc:DueDate", doc.due_date.isoformat())
    sub(root, f"cbc:{kind}TypeCode", doc.type_code)
    # Peppol allows one document-level note (PEPPOL-EN16931-R002): a credit note's reason
    # and the invoice's notes share it.
    note = "\n".join(text for text in (doc.reason, doc.notes) if text)
    if note:
        sub(root, "cbc:Note", note)
    sub(root, "cbc:DocumentCurrencyCode", doc.currency)
    tax_currency = tax_currency_of(doc)
    if tax_currency is not None:
        sub(root, "cbc:TaxCurrencyCode", tax_currency)  # BT-6
    # BT-10, required by Peppol (PEPPOL-EN16931-R003) when there is no order reference: the
    # API takes no buyer's reference yet, so the invoice's number stands in for it (a credit
    # note repeats its invoice's).
    invoice_number = doc.preceding_invoice.number if doc.preceding_invoice else doc.number
    sub(root, "cbc:BuyerReference", invoice_number)
    if doc.preceding_invoice is not None:
        reference = sub(sub(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
        sub(reference, "cbc:ID", doc.preceding_invoice.number)
        if doc.preceding_invoice.issue_date is not None:
            sub(reference, "cbc:IssueDate", doc.preceding_invoice.issue_date.isoformat())

    # A seller exempt from VAT (category E) has no VAT number: its register number is its tax
    # registration (BT-32), which BR-E-02 asks for when there is no VAT identifier.
    exempt_id = doc.seller.company_id if doc.vat_exemption and not doc.seller.vat_number else None
    party(root, "cac:AccountingSupplierParty", doc.seller, doc.legal_mentions, exempt_id)
    # A client without a country is taken to be in the seller's (API.md, BT-55).
    party(root, "cac:AccountingCustomerParty", doc.buyer, fallback_country=doc.seller.country)
    terms = doc.terms
    if terms is not None and terms.delivery_address:
        # BG-13/BG-15: where the goods or services go, when it differs from the client's.
        location = sub(sub(root, "cac:Delivery"), "cac:DeliveryLocation")
        country = doc.buyer.country or doc.seller.country or ""
        address_node(location, terms.delivery_address, country, "cac:Address")

    if doc.iban and not credit:
        means = sub(root, "cac:PaymentMeans")
        code = SEPA_CREDIT_TRANSFER if doc.currency == "EUR" else CREDIT_TRANSFER
        sub(means, "cbc:PaymentMeansCode", code)
        if terms is not None:
            sub(means, "cbc:PaymentID", terms.payment_reference)  # BT-83
        account = sub(means, "cac:PayeeFinancialAccount")
        sub(account, "cbc:ID", doc.iban)
        if doc.bic:
            sub(sub(account, "cac:FinancialInstitutionBranch"), "cbc:ID", doc.bic)
    if credit:
        # What becomes of the amount (BT-20): there is no due date (BR-CO-25).
        sub(sub(root, "cac:PaymentTerms"), "cbc:Note", credit_note_terms(doc))

    tax_total = sub(root, "cac:TaxTotal")
    _money(tax_total, "cbc:TaxAmount", doc.tax_cents, doc.currency)
    for vat in doc.breakdown:
        subtotal = sub(tax_total, "cac:TaxSubtotal")
        _money(subtotal, "cbc:TaxableAmount", vat.base_cents, doc.currency)
        _money(subtotal, "cbc:TaxAmount", vat.tax_cents, doc.currency)
        category = breakdown_category(doc, vat)
        _category(subtotal, "cac:TaxCategory", vat.rate, category, reason=True)
    if tax_currency is not None and terms is not None and terms.tax_cents_accounting is not None:
        # BT-111: the VAT total in the accounting currency, a second TaxTotal (BR-53).
        _money(sub(root, "cac:TaxTotal"), "cbc:TaxAmount", terms.tax_cents_accounting, tax_currency)

    totals = sub(root, "cac:LegalMonetaryTotal")
    _money(totals, "cbc:LineExtensionAmount", doc.subtotal_cents, doc.currency)
    _money(totals, "cbc:TaxExclusiveAmount", doc.subtotal_cents, doc.currency)
    _money(totals, "cbc:TaxInclusiveAmount", doc.total_cents, doc.currency)
    if doc.amount_paid_cents:
        _money(totals, "cbc:PrepaidAmount", doc.amount_paid_cents, doc.currency)
    _money(totals, "cbc:PayableAmount", doc.amount_due_cents, doc.currency)

    for index, line in enumerate(doc.lines, start=1):
        node = sub(root, f"cac:{kind}Line")
        sub(node, "cbc:ID", str(index))
        # A net price is never negative (BR-27): a discount line is a negative quantity.
        sign = -1 if line.unit_price_cents < 0 else 1
        quantity_tag = "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity"
        sub(node, quantity_tag, decimal_text(sign * line.quantity), unitCode=UNIT)
        _money(node, "cbc:LineExtensionAmount", line.net_cents, doc.currency)
        item = sub(node, "cac:Item")
        sub(item, "cbc:Name", line.description)
        code = line.vat_category or vat_category(line.tax_rate, bool(doc.vat_exemption))
        _category(
            item, "cac:ClassifiedTaxCategory", line.tax_rate, (code, None, None), reason=False
        )
        price = sub(node, "cac:Price")
        _money(price, "cbc:PriceAmount", abs(line.unit_price_cents), doc.currency)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
