"""The Factur-X XML (UN/CEFACT CII D16B, EN 16931 profile) of an invoice document, pure: an
invoice (type code 380) or a credit note (381, referring to the invoice it corrects).

Element order follows the Factur-X 1.0 EN 16931 XSD (checked by `facturx.xml_check_xsd`).
VAT categories: as the invoice's lines and breakdown rows carry them (domain/vat_categories.py:
S, Z, E, AE, G), with the exemption reason and code of E, AE and G (BR-E-10, BR-AE-10,
BR-G-10). A credit note's lines carry none yet: S above 0 %, else Z (E under the 293 B
franchise). An invoice also carries its payment reference (BT-83), its delivery address (BG-15),
the VAT total in the accounting currency (BT-6, BT-111) and, for a French seller, the operation
category as the reform's business process (BT-23: B1 goods, S1 services, M1 mixed).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from lxml import etree

from fastfaktura.adapters.pdf.document import InvoiceDocument, Party, VatAmount
from fastfaktura.adapters.web.labels import CREDIT_NOTE_LABELS

RSM: Final = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM: Final = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT: Final = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT: Final = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP: Final = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
EN16931: Final = "urn:cen.eu:en16931:2017"
# UNCL 4461: 58, SEPA credit transfer (the payee's IBAN, and BIC when known).
SEPA_CREDIT_TRANSFER: Final = "58"
UNIT: Final = "C62"  # "one" (UN/ECE Rec. 20): quantities carry no unit in the API


def vat_category(rate: Decimal, exempt: bool = False) -> str:
    """S (standard) above 0 %; at 0 %, E (exempt, with its reason) or Z (zero rated)."""
    if rate > 0:
        return "S"
    return "E" if exempt else "Z"


# EN 16931 exemption reason code of the French VAT franchise (art. 293 B du CGI).
FRANCHISE_REASON_CODE = "VATEX-FR-FRANCHISE"
# France's reform: the operation category as the invoice's business process (BT-23).
FRENCH_BUSINESS_PROCESS: Final = {"goods": "B1", "services": "S1", "mixed": "M1"}
# UNTDID 2475, VAT point date code (BT-8): 5, the invoice's issue date (VAT on debits).
VAT_ON_ISSUE_DATE: Final = "5"


def amount(cents: int) -> str:
    return f"{Decimal(cents).scaleb(-2):.2f}"


def decimal_text(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 20, 5.5, 1.25."""
    return format(value.normalize(), "f")


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    prefix, _, name = tag.partition(":")
    element = etree.SubElement(parent, f"{{{NSMAP[prefix]}}}{name}", attrs)
    if text is not None:
        element.text = text
    return element


def _date(parent: etree._Element, tag: str, value: str) -> None:
    _sub(_sub(parent, tag), "udt:DateTimeString", value, format="102")


def _party(parent: etree._Element, tag: str, party: Party) -> None:
    node = _sub(parent, tag)
    _sub(node, "ram:Name", party.legal_name or party.name)
    if party.company_id:
        legal = _sub(node, "ram:SpecifiedLegalOrganization")
        _sub(legal, "ram:ID", party.company_id)
        if party.legal_name and party.legal_name != party.name:
            _sub(legal, "ram:TradingBusinessName", party.name)
    if party.country:
        address = _sub(node, "ram:PostalTradeAddress")
        if party.address:
            lines = [ln.strip() for ln in party.address.splitlines() if ln.strip()]
            for tag_name, text in zip(
                ("ram:LineOne", "ram:LineTwo", "ram:LineThree"),
                [*lines[:2], ", ".join(lines[2:])] if len(lines) > 3 else lines,
                strict=False,
            ):
                _sub(address, tag_name, text)
        _sub(address, "ram:CountryID", party.country)
    if party.email:
        uri = _sub(node, "ram:URIUniversalCommunication")
        _sub(uri, "ram:URIID", party.email, schemeID="EM")
    if party.vat_number:
        registration = _sub(node, "ram:SpecifiedTaxRegistration")
        _sub(registration, "ram:ID", party.vat_number, schemeID="VA")


def breakdown_category(doc: InvoiceDocument, vat: VatAmount) -> tuple[str, str | None, str | None]:
    """(category, exemption reason, reason code) of a breakdown row; a credit note's rows
    carry no category yet: S above 0 %, else E under the 293 B franchise, else Z."""
    if vat.vat_category:
        return vat.vat_category, vat.vat_exemption_reason, vat.vat_exemption_code
    exempt = bool(doc.vat_exemption) and vat.rate == 0
    if exempt:
        return "E", doc.vat_exemption, FRANCHISE_REASON_CODE
    return vat_category(vat.rate), None, None


def tax_currency_of(doc: InvoiceDocument) -> str | None:
    """BT-6, when the invoice is in another currency than the accounting one and has its
    BT-111 amount."""
    terms = doc.terms
    if terms is None or terms.tax_cents_accounting is None or not terms.accounting_currency:
        return None
    return terms.accounting_currency if terms.accounting_currency != doc.currency else None


def _ship_to(delivery: etree._Element, doc: InvoiceDocument, address: str) -> None:
    """BG-13/BG-15: the deliver-to party (the buyer) at the delivery address; its country is
    the buyer's (the seller's when the buyer has none, as BT-55)."""
    party = _sub(delivery, "ram:ShipToTradeParty")
    _sub(party, "ram:Name", doc.buyer.legal_name or doc.buyer.name)
    country = doc.buyer.country or doc.seller.country
    if country is None:  # an address needs its country (the legal checks ask for it)
        return
    postal = _sub(party, "ram:PostalTradeAddress")
    lines = [ln.strip() for ln in address.splitlines() if ln.strip()]
    parts = [*lines[:2], ", ".join(lines[2:])] if len(lines) > 3 else lines
    for tag_name, text in zip(("ram:LineOne", "ram:LineTwo", "ram:LineThree"), parts, strict=False):
        _sub(postal, tag_name, text)
    _sub(postal, "ram:CountryID", country)


def credit_note_terms(doc: InvoiceDocument) -> str:
    """A credit note's payment terms, in the client's language: the refund due, or that the
    amount is deducted from the invoice."""
    words = CREDIT_NOTE_LABELS[doc.locale]
    if doc.refund_due_cents > 0:
        return f"{words['refund_due']}: {amount(doc.refund_due_cents)} {doc.currency}"
    number = doc.preceding_invoice.number if doc.preceding_invoice else ""
    return words["deducted_from"].format(number=number)


def build_cii(doc: InvoiceDocument) -> bytes:
    """The CII XML of `doc`, UTF-8 encoded."""
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)
    context = _sub(root, "rsm:ExchangedDocumentContext")
    invoice_terms = doc.terms
    if invoice_terms is not None and doc.seller.country == "FR":
        process = FRENCH_BUSINESS_PROCESS[invoice_terms.operation_category]
        _sub(
            _sub(context, "ram:BusinessProcessSpecifiedDocumentContextParameter"), "ram:ID", process
        )
    _sub(_sub(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931)

    header = _sub(root, "rsm:ExchangedDocument")
    _sub(header, "ram:ID", doc.number)
    _sub(header, "ram:TypeCode", doc.type_code)
    _date(header, "ram:IssueDateTime", doc.issue_date.strftime("%Y%m%d"))
    for note in (doc.notes, doc.reason):  # BT-22: a credit note's reason is a note too
        if note:
            _sub(_sub(header, "ram:IncludedNote"), "ram:Content", note)

    transaction = _sub(root, "rsm:SupplyChainTradeTransaction")
    for index, line in enumerate(doc.lines, start=1):
        item = _sub(transaction, "ram:IncludedSupplyChainTradeLineItem")
        _sub(_sub(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(index))
        _sub(_sub(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)
        # A net price is never negative (BR-27): a discount line is a negative quantity.
        sign = -1 if line.unit_price_cents < 0 else 1
        agreement = _sub(item, "ram:SpecifiedLineTradeAgreement")
        price = _sub(agreement, "ram:NetPriceProductTradePrice")
        _sub(price, "ram:ChargeAmount", amount(abs(line.unit_price_cents)))
        delivery = _sub(item, "ram:SpecifiedLineTradeDelivery")
        _sub(delivery, "ram:BilledQuantity", decimal_text(sign * line.quantity), unitCode=UNIT)
        settlement = _sub(item, "ram:SpecifiedLineTradeSettlement")
        tax = _sub(settlement, "ram:ApplicableTradeTax")
        _sub(tax, "ram:TypeCode", "VAT")
        category = line.vat_category or vat_category(line.tax_rate, bool(doc.vat_exemption))
        _sub(tax, "ram:CategoryCode", category)
        _sub(tax, "ram:RateApplicablePercent", decimal_text(line.tax_rate))
        summation = _sub(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        _sub(summation, "ram:LineTotalAmount", amount(line.net_cents))

    agreement = _sub(transaction, "ram:ApplicableHeaderTradeAgreement")
    _party(agreement, "ram:SellerTradeParty", doc.seller)
    _party(agreement, "ram:BuyerTradeParty", doc.buyer)
    delivery = _sub(transaction, "ram:ApplicableHeaderTradeDelivery")
    if invoice_terms is not None and invoice_terms.delivery_address:
        _ship_to(delivery, doc, invoice_terms.delivery_address)

    settlement = _sub(transaction, "ram:ApplicableHeaderTradeSettlement")
    if invoice_terms is not None:
        _sub(settlement, "ram:PaymentReference", invoice_terms.payment_reference)  # BT-83
    tax_currency = tax_currency_of(doc)
    if tax_currency is not None:
        _sub(settlement, "ram:TaxCurrencyCode", tax_currency)  # BT-6
    _sub(settlement, "ram:InvoiceCurrencyCode", doc.currency)
    if doc.iban:
        means = _sub(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        _sub(means, "ram:TypeCode", SEPA_CREDIT_TRANSFER)
        _sub(_sub(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", doc.iban)
        if doc.bic:
            institution = _sub(means, "ram:PayeeSpecifiedCreditorFinancialInstitution")
            _sub(institution, "ram:BICID", doc.bic)
    for vat in doc.breakdown:
        tax = _sub(settlement, "ram:ApplicableTradeTax")
        _sub(tax, "ram:CalculatedAmount", amount(vat.tax_cents))
        _sub(tax, "ram:TypeCode", "VAT")
        category, reason, code = breakdown_category(doc, vat)
        if reason:
            _sub(tax, "ram:ExemptionReason", reason)
        _sub(tax, "ram:BasisAmount", amount(vat.base_cents))
        _sub(tax, "ram:CategoryCode", category)
        if code:
            _sub(tax, "ram:ExemptionReasonCode", code)
        if invoice_terms is not None and invoice_terms.vat_on_debits:
            _sub(tax, "ram:DueDateTypeCode", VAT_ON_ISSUE_DATE)
        _sub(tax, "ram:RateApplicablePercent", decimal_text(vat.rate))
    terms = _sub(settlement, "ram:SpecifiedTradePaymentTerms")
    if doc.is_credit_note:
        # No due date: the terms (BT-20) say what becomes of the amount (BR-CO-25).
        _sub(terms, "ram:Description", credit_note_terms(doc))
    else:
        _date(terms, "ram:DueDateDateTime", doc.due_date.strftime("%Y%m%d"))
    totals = _sub(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _sub(totals, "ram:LineTotalAmount", amount(doc.subtotal_cents))
    _sub(totals, "ram:TaxBasisTotalAmount", amount(doc.subtotal_cents))
    _sub(totals, "ram:TaxTotalAmount", amount(doc.tax_cents), currencyID=doc.currency)
    if (
        tax_currency is not None
        and invoice_terms is not None
        and invoice_terms.tax_cents_accounting is not None
    ):
        # BT-111: the VAT total in the accounting currency (BR-53).
        accounting = amount(invoice_terms.tax_cents_accounting)
        _sub(totals, "ram:TaxTotalAmount", accounting, currencyID=tax_currency)
    _sub(totals, "ram:GrandTotalAmount", amount(doc.total_cents))
    _sub(totals, "ram:TotalPrepaidAmount", amount(doc.amount_paid_cents))
    _sub(totals, "ram:DuePayableAmount", amount(doc.amount_due_cents))
    if doc.preceding_invoice is not None:
        # BT-25 / BT-26: the invoice a credit note corrects.
        preceding = _sub(settlement, "ram:InvoiceReferencedDocument")
        _sub(preceding, "ram:IssuerAssignedID", doc.preceding_invoice.number)
        if doc.preceding_invoice.issue_date is not None:
            issued = _sub(preceding, "ram:FormattedIssueDateTime")
            day = doc.preceding_invoice.issue_date.strftime("%Y%m%d")
            _sub(issued, "qdt:DateTimeString", day, format="102")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
