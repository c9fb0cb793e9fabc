"""EN 16931 core rules (BR-nn) and calculation rules (BR-CO-nn) that apply to what we issue.

Amounts are integer cents, so the decimal rules (BR-DEC-*) hold by construction; document
allowances and charges do not exist here, so their rules (BR-31..BR-48) never apply.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from fastfaktura.domain.einvoice_rules.facts import buyer_country, vat_prefix_country
from fastfaktura.domain.einvoice_rules.model import Document
from fastfaktura.domain.einvoice_rules.registry import Broken, rule
from fastfaktura.domain.rules import is_country

EN = "EN 16931"


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


@rule("BR-02", EN, "error", "The document has a number (BT-1).")
def document_number(doc: Document) -> Broken:
    if _blank(doc.number):
        yield "number", "the document needs a number"


@rule("BR-03", EN, "error", "The document has an issue date (BT-2).")
def issue_date(doc: Document) -> Broken:
    if _blank(doc.issue_date):
        yield "issue_date", "the document needs an issue date"


@rule("BR-05", EN, "error", "The document has a currency (BT-5).")
def currency(doc: Document) -> Broken:
    if _blank(doc.currency):
        yield "currency", "the document needs a currency"


@rule("BR-06", EN, "error", "The seller has a name (BT-27).")
def seller_name(doc: Document) -> Broken:
    if _blank(doc.seller.legal_name) and _blank(doc.seller.name):
        yield "business.name", "the seller needs a name"


@rule("BR-07", EN, "error", "The buyer has a name (BT-44).")
def buyer_name(doc: Document) -> Broken:
    if _blank(doc.buyer.name):
        yield "client.name", "the buyer needs a name"


@rule("BR-08", EN, "error", "The seller has a postal address (BG-5).")
def seller_address(doc: Document) -> Broken:
    if _blank(doc.seller.address):
        yield "business.address", "the seller's postal address is required on an invoice"


@rule("BR-09", EN, "error", "The seller's address has a country code (BT-40).")
def seller_country(doc: Document) -> Broken:
    if doc.seller.country is None or not is_country(doc.seller.country):
        yield "business.country", "the seller's country (ISO 3166-1 alpha-2) is required"


@rule("BR-11", EN, "error", "The buyer's address has a country code (BT-55).")
def buyer_country_known(doc: Document) -> Broken:
    country = buyer_country(doc)
    if country is None or not is_country(country):
        yield "client.country", "the buyer's country is required (the seller's has none either)"


@rule(
    "FF-BUYER-COUNTRY",
    "FastFaktura",
    "warning",
    "A client without a country is taken to be in the seller's country (BT-55).",
)
def buyer_country_assumed(doc: Document) -> Broken:
    if doc.buyer.country is None and doc.seller.country is not None:
        yield (
            "client.country",
            f"the client has no country: the e-invoice says {doc.seller.country}, the seller's",
        )


@rule("BR-16", EN, "error", "The document has at least one line (BG-25).")
def at_least_one_line(doc: Document) -> Broken:
    if not doc.lines:
        yield "lines", "the document needs at least one line"


@rule("BR-25", EN, "error", "Each line names the item (BT-153).")
def line_item_name(doc: Document) -> Broken:
    for index, line in enumerate(doc.lines):
        if _blank(line.description):
            yield f"lines[{index}].description", "each line needs a description"


@rule("BR-55", EN, "error", "A credit note names the invoice it corrects (BT-25).")
def preceding_invoice(doc: Document) -> Broken:
    if doc.kind == "credit_note" and _blank(doc.preceding_invoice_number):
        yield "invoice_id", "a credit note names the invoice it corrects"


@rule(
    "BR-CO-09",
    EN,
    "error",
    "A VAT number (BT-31, BT-48) starts with its country's ISO code (EL for Greece).",
)
def vat_number_prefix(doc: Document) -> Broken:
    for path, party in (("business", doc.seller), ("client", doc.buyer)):
        vat = party.vat_number
        if vat and not (vat[:2].isalpha() and is_country(vat_prefix_country(vat))):
            yield f"{path}.vat_number", "a VAT number starts with its country code (e.g. FR, NO)"


@rule("BR-CO-10", EN, "error", "The sum of the line net amounts is the subtotal (BT-106).")
def lines_sum_to_subtotal(doc: Document) -> Broken:
    if sum(line.net_cents for line in doc.lines) != doc.subtotal_cents:
        yield "lines", "the lines' net amounts do not add up to the subtotal"


@rule("BR-CO-14", EN, "error", "The VAT total is the sum of the VAT breakdown (BT-110).")
def vat_total_is_breakdown_sum(doc: Document) -> Broken:
    if sum(item.tax_cents for item in doc.vat_breakdown) != doc.tax_cents:
        yield "tax_cents", "the VAT total differs from the sum of the VAT breakdown"


@rule("BR-CO-15", EN, "error", "Total with VAT = total without VAT + VAT total (BT-112).")
def total_with_vat(doc: Document) -> Broken:
    if doc.subtotal_cents + doc.tax_cents != doc.total_cents:
        yield "total_cents", "the total is not the subtotal plus the VAT"


@rule(
    "BR-CO-17",
    EN,
    "error",
    "Each VAT amount is its base x rate / 100, rounded to the cent (half away from zero).",
)
def vat_amount_per_rate(doc: Document) -> Broken:
    for item in doc.vat_breakdown:
        expected = (Decimal(item.base_cents) * item.rate / 100).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
        if expected != item.tax_cents:
            yield "tax_breakdown", f"the VAT at {item.rate} % should be {expected} cents"


@rule("BR-CO-18", EN, "error", "The document has a VAT breakdown (BG-23).")
def has_vat_breakdown(doc: Document) -> Broken:
    if not doc.vat_breakdown:
        yield "tax_breakdown", "the document needs a VAT breakdown"


@rule("BR-CO-25", EN, "error", "An amount due has a due date or payment terms (BT-9).")
def due_date_when_due(doc: Document) -> Broken:
    if doc.kind == "invoice" and (doc.amount_due_cents or 0) > 0 and _blank(doc.due_date):
        yield "due_date", "an invoice with an amount due needs a due date"


@rule(
    "BR-CO-26",
    EN,
    "error",
    "The seller is identified: a legal registration (BT-30) or a VAT number (BT-31).",
)
def seller_identified(doc: Document) -> Broken:
    if _blank(doc.seller.company_id) and _blank(doc.seller.vat_number):
        yield "business.company_id", "the seller needs a company id or a VAT number"


@rule(
    "BR-61",
    EN,
    "warning",
    "A credit transfer names the account to pay to (BT-84): the business's IBAN.",
)
def payment_account(doc: Document) -> Broken:
    if doc.kind == "invoice" and _blank(doc.seller.iban):
        yield "business.iban", "no IBAN: the invoice tells the client no account to pay to"
