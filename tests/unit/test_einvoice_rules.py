"""The legal checks' rule engine, pure: each registered rule with a document that passes it
and one that breaks it (table-driven), and the table covers every rule of the registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from fastfaktura.domain.einvoice_rules import (
    RULES,
    Document,
    Line,
    Party,
    VatSubtotal,
    check_document,
)
from fastfaktura.domain.einvoice_rules.facts import derived_category

FR_SELLER = Party(
    name="Exemple SAS",
    country="FR",
    address="1 rue de l'Exemple, 75001 Paris",
    vat_number="FR44732829320",
    company_id="732829320",
    email="billing@exemple.example",
    iban="FR7630006000011234567890189",
    bic="AGRIFRPP",
)
NO_SELLER = replace(
    FR_SELLER,
    country="NO",
    vat_number="NO974760673MVA",
    company_id="974760673",
    iban="NO9386011117947",
    bic="DNBANOKK",
)
SE_SELLER = replace(FR_SELLER, country="SE", vat_number="SE556036079301", company_id="5560360793")
DK_SELLER = replace(FR_SELLER, country="DK", vat_number="DK13585628", company_id="13585628")
CONSUMER = Party(name="Jean Client", country="FR", email="jean@client.example")
FRENCH_COMPANY = replace(CONSUMER, vat_number="FR44732829320", company_id="732829320")
GERMAN_COMPANY = Party(name="Kunde GmbH", country="DE", vat_number="DE136695976")
US_CLIENT = Party(name="Client Inc", country="US", email="ap@client.example")


def line(rate: str = "20", quantity: str = "2", price: int = 10000, **fields: Any) -> Line:
    net = int((Decimal(quantity) * price).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return Line("Consulting", Decimal(quantity), price, Decimal(rate), net, **fields)


def doc(lines: tuple[Line, ...] | None = None, **fields: Any) -> Document:
    """A correct document: its breakdown and totals computed from its lines."""
    lines = (line(),) if lines is None else lines
    rates = sorted({ln.vat_rate for ln in lines})
    breakdown = []
    for rate in rates:
        base = sum(ln.net_cents for ln in lines if ln.vat_rate == rate)
        tax = int((Decimal(base) * rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        breakdown.append(VatSubtotal(rate, base, tax))
    subtotal = sum(ln.net_cents for ln in lines)
    tax = sum(item.tax_cents for item in breakdown)
    base: dict[str, Any] = {
        "kind": "invoice",
        "number": "F2026-00001",
        "issue_date": "2026-12-06",
        "currency": "EUR",
        "seller": FR_SELLER,
        "buyer": CONSUMER,
        "lines": lines,
        "vat_breakdown": tuple(breakdown),
        "subtotal_cents": subtotal,
        "tax_cents": tax,
        "total_cents": subtotal + tax,
        "due_date": "2027-01-05",
        "amount_due_cents": subtotal + tax,
        "accounting_currency": "EUR",
        "buyer_reference": "F2026-00001",
        "operation_category": "services",
    }
    return Document(**{**base, **fields})


def seller(**fields: Any) -> Document:
    return doc(seller=replace(FR_SELLER, **fields))


def buyer(**fields: Any) -> Document:
    return doc(buyer=replace(CONSUMER, **fields))


def zero(**line_fields: Any) -> tuple[Line, ...]:
    return (line(rate="0", **line_fields),)


CREDIT = doc(kind="credit_note", number="A2026-00001", preceding_invoice_number="F2026-00001")
EXEMPT = doc(lines=zero(), vat_exempt_293b=True, seller=replace(FR_SELLER, vat_number=None))
REVERSE = doc(lines=zero(), buyer=GERMAN_COMPANY)
EXPORT = doc(lines=zero(), buyer=US_CLIENT)
NO_NO = doc(
    seller=NO_SELLER,
    buyer=replace(CONSUMER, country="NO"),
    currency="NOK",
    accounting_currency="NOK",
)
WRONG_BREAKDOWN = (VatSubtotal(Decimal(20), 20000, 4001),)

# rule code -> (a document that passes it, one that breaks it)
CASES: dict[str, tuple[Document, Document]] = {
    "BR-02": (doc(), doc(number=" ")),
    "BR-03": (doc(), doc(issue_date=None)),
    "BR-05": (doc(), doc(currency="")),
    "BR-06": (seller(legal_name=None), seller(name=" ", legal_name=None)),
    "BR-07": (doc(), buyer(name="")),
    "BR-08": (doc(), seller(address=None)),
    "BR-09": (doc(), seller(country="XX")),
    "BR-11": (
        buyer(country=None),
        doc(seller=replace(FR_SELLER, country=None), buyer=replace(CONSUMER, country=None)),
    ),
    "FF-BUYER-COUNTRY": (doc(), buyer(country=None)),
    "BR-16": (doc(), doc(lines=())),
    "BR-25": (doc(), doc(lines=(line(), replace(line(), description=" ")))),
    "BR-55": (CREDIT, replace(CREDIT, preceding_invoice_number=None)),
    "BR-CO-09": (doc(buyer=FRENCH_COMPANY), buyer(vat_number="732829320")),
    "BR-CO-10": (doc(), replace(doc(), subtotal_cents=20001)),
    "BR-CO-14": (doc(), replace(doc(), tax_cents=4001)),
    "BR-CO-15": (doc(), replace(doc(), total_cents=24001)),
    "BR-CO-17": (doc(), replace(doc(), vat_breakdown=WRONG_BREAKDOWN)),
    "BR-CO-18": (doc(), replace(doc(), vat_breakdown=())),
    "BR-CO-25": (doc(due_date=None, amount_due_cents=0), doc(due_date=None)),
    "BR-CO-26": (seller(vat_number=None), seller(vat_number=None, company_id=None)),
    "BR-61": (doc(), seller(iban=None)),
    "BR-CO-04": (doc(), doc(lines=(line(vat_category="K"),))),
    "BR-S-02": (seller(vat_number=None), seller(vat_number=None, company_id=None)),
    "BR-S-05": (doc(), doc(lines=(line(rate="0", vat_category="S"),))),
    "BR-S-08": (doc(), replace(doc(), vat_breakdown=(VatSubtotal(Decimal(20), 19999, 4000),))),
    "BR-S-10": (doc(), doc(lines=(line(vat_exemption_reason="none"),))),
    "BR-Z-02": (
        doc(lines=zero()),
        doc(lines=zero(), seller=replace(FR_SELLER, vat_number=None, company_id=None)),
    ),
    "BR-Z-05": (doc(lines=zero()), doc(lines=(line(vat_category="Z"),))),
    "BR-Z-10": (doc(lines=zero()), doc(lines=zero(vat_exemption_reason="why"))),
    "BR-E-02": (
        EXEMPT,
        replace(EXEMPT, seller=replace(FR_SELLER, vat_number=None, company_id=None)),
    ),
    "BR-E-05": (EXEMPT, doc(lines=(line(vat_category="E", vat_exemption_reason="VATEX-EU-132"),))),
    "BR-E-10": (EXEMPT, doc(lines=zero(vat_category="E"))),
    "BR-AE-02": (
        REVERSE,
        doc(
            lines=zero(vat_category="AE", vat_exemption_reason="VATEX-EU-AE"),
            buyer=replace(GERMAN_COMPANY, vat_number=None),
        ),
    ),
    "BR-AE-05": (
        REVERSE,
        doc(
            lines=(line(vat_category="AE", vat_exemption_reason="VATEX-EU-AE"),),
            buyer=GERMAN_COMPANY,
        ),
    ),
    "BR-AE-10": (REVERSE, doc(lines=zero(vat_category="AE"), buyer=GERMAN_COMPANY)),
    "BR-G-02": (EXPORT, replace(EXPORT, seller=replace(FR_SELLER, vat_number=None))),
    "BR-G-05": (
        EXPORT,
        doc(lines=(line(vat_category="G", vat_exemption_reason="VATEX-EU-G"),), buyer=US_CLIENT),
    ),
    "BR-G-10": (EXPORT, doc(lines=zero(vat_category="G"), buyer=US_CLIENT)),
    "FF-VAT-CATEGORY": (
        doc(
            lines=zero(vat_category="AE", vat_exemption_reason="VATEX-EU-AE"), buyer=GERMAN_COMPANY
        ),
        doc(
            lines=zero(vat_category="AE", vat_exemption_reason="VATEX-EU-AE"), buyer=FRENCH_COMPANY
        ),
    ),
    "PEPPOL-COMMON-R041": (
        NO_NO,
        replace(NO_NO, seller=replace(NO_SELLER, company_id="974760674")),
    ),
    "PEPPOL-COMMON-R042": (
        doc(seller=DK_SELLER),
        doc(seller=replace(DK_SELLER, company_id="13585627")),
    ),
    "PEPPOL-COMMON-R049": (
        doc(seller=SE_SELLER),
        doc(seller=replace(SE_SELLER, company_id="5560360794")),
    ),
    "NO-R-001": (NO_NO, replace(NO_NO, seller=replace(NO_SELLER, vat_number="NO974760673"))),
    "DK-R-002": (doc(seller=DK_SELLER), doc(seller=replace(DK_SELLER, company_id=None))),
    "FF-SELLER-VAT": (doc(), seller(vat_number="FR00732829320")),
    "FF-BUYER-VAT": (
        doc(buyer=FRENCH_COMPANY),
        buyer(vat_number="FR00732829320", company_id="732829320"),
    ),
    "FF-BUYER-VAT-AE": (
        REVERSE,
        replace(REVERSE, buyer=replace(GERMAN_COMPANY, vat_number="DE136695977")),
    ),
    "FF-IBAN": (doc(), seller(iban="FR7630006000011234567890188")),
    "FF-BIC": (doc(), seller(bic="NOT A BIC")),
    "PEPPOL-EN16931-R003": (doc(), doc(buyer_reference=None)),
    "PEPPOL-EN16931-R010": (doc(), buyer(email=None)),
    "PEPPOL-EN16931-R020": (
        seller(vat_number=None, company_id=None),
        seller(vat_number=None, company_id=None, email=None),
    ),
    "PEPPOL-EN16931-R120": (doc(), doc(lines=(replace(line(), net_cents=20001),))),
    "BR-FR-01": (doc(), doc(number="F" * 36)),
    "BR-FR-02": (doc(), doc(number="F 2026.1")),
    "BR-FR-10": (seller(company_id="73282932000074"), seller(company_id=None)),
    "BR-FR-11": (doc(buyer=FRENCH_COMPANY), buyer(vat_number="FR44732829320")),
    "BR-FR-CO-12": (doc(currency="USD", tax_exchange_rate=Decimal("0.92")), doc(currency="USD")),
    "FF-BT-111": (replace(NO_NO, currency="NOK"), replace(NO_NO, currency="EUR")),
    "FF-FR-OPERATION": (doc(), doc(operation_category=None)),
}


def codes(document: Document) -> set[str]:
    report = check_document(document)
    return {f.rule for f in report.errors + report.warnings}


def test_every_registered_rule_has_a_passing_and_a_failing_case() -> None:
    assert sorted(CASES) == sorted(r.code for r in RULES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_passes_and_fails(code: str) -> None:
    passing, failing = CASES[code]
    assert code not in codes(passing)
    assert code in codes(failing)


@pytest.mark.parametrize(
    "document",
    [doc(), CREDIT, EXEMPT, REVERSE, EXPORT, NO_NO, doc(seller=SE_SELLER), doc(seller=DK_SELLER)],
)
def test_a_complete_document_breaks_no_rule(document: Document) -> None:
    report = check_document(document)
    assert report.valid
    assert (report.errors, report.warnings) == ((), ())


def test_errors_and_warnings_are_split_by_the_rules_severity() -> None:
    report = check_document(
        doc(seller=replace(FR_SELLER, address=None), buyer=replace(CONSUMER, country=None))
    )
    assert [(f.field, f.rule) for f in report.errors] == [("business.address", "BR-08")]
    assert [(f.field, f.rule) for f in report.warnings] == [("client.country", "FF-BUYER-COUNTRY")]
    assert not report.valid
    assert all(f.message for f in report.errors + report.warnings)


def test_each_broken_place_is_one_finding_naming_its_line() -> None:
    document = doc(
        lines=(line(), replace(line(), description=""), replace(line(), description=" "))
    )
    found = [f.field for f in check_document(document).errors if f.rule == "BR-25"]
    assert found == ["lines[1].description", "lines[2].description"]


Derive = Callable[[Document], str]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (doc(), "S"),
        (doc(lines=zero()), "Z"),
        (EXEMPT, "E"),
        (REVERSE, "AE"),
        (EXPORT, "G"),
        # A client with a VAT number of the seller's own country: no reverse charge.
        (doc(lines=zero(), buyer=FRENCH_COMPANY), "Z"),
        # A client without a country is in the seller's.
        (doc(lines=zero(), buyer=replace(GERMAN_COMPANY, country=None)), "Z"),
        # A Norwegian seller's 0 % sale to a client abroad is an export (API.md: G for a
        # client outside the EU; domain/vat_categories.py decides it for the invoice).
        (doc(lines=zero(), seller=NO_SELLER, buyer=US_CLIENT), "G"),
    ],
)
def test_the_vat_category_follows_the_facts(document: Document, expected: str) -> None:
    assert derived_category(document, document.lines[0]) == expected
