"""Invoice and credit-note documents built in memory (no database) for the e-invoice tests:
the read side's answer as the API would serve it, priced by the domain's own arithmetic, then
turned into the document value the PDF, the CII and the UBL are made from."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
from lxml import etree
from peppol import check_rules

from fastfaktura.adapters.einvoice.ubl_parties import NSMAP
from fastfaktura.adapters.pdf.credit_note import build_credit_note_document
from fastfaktura.adapters.pdf.document import InvoiceDocument, build_document
from fastfaktura.domain.payment_reference import reference_for_number
from fastfaktura.domain.pricing import InvoiceLine, price
from fastfaktura.domain.vat_categories import categorized
from fastfaktura.readmodels.credit_note_view import CreditNoteResponse
from fastfaktura.readmodels.invoice_view import InvoiceResponse

# A seller with a complete legal profile per country (valid-format identifiers).
SELLERS: dict[str, dict[str, Any]] = {
    "FR": {
        "name": "Atelier Nord",
        "legal_name": "Atelier Nord SAS",
        "address": "12 rue des Lilas\n75011 Paris",
        "vat_number": "FR40303265045",
        "company_id": "30326504500011",  # SIRET
        "iban": "FR7630006000011234567890189",
        "bic": "AGRIFRPP",
    },
    "NO": {
        "name": "Fjord Konsult",
        "legal_name": "Fjord Konsult AS",
        "address": "Karl Johans gate 1\n0154 Oslo",
        "vat_number": "NO974760673MVA",
        "company_id": "974760673",
        "iban": "NO9386011117947",
        "bic": "DNBANOKK",
    },
    "SE": {
        "name": "Skog Design",
        "legal_name": "Skog Design AB",
        "address": "Drottninggatan 5\n111 51 Stockholm",
        "vat_number": "SE556036079301",
        "company_id": "556036-0793",
        "iban": "SE4550000000058398257466",
        "bic": "ESSESESS",
        "f_skatt": True,
    },
    "DK": {
        "name": "Havn Studio",
        "legal_name": "Havn Studio ApS",
        "address": "Strandgade 10\n1401 København K",
        "vat_number": "DK13585628",
        "company_id": "13585628",
        "iban": "DK5000400440116243",
        "bic": "DABADKKK",
    },
}
# The lines of each VAT case (quantity, unit price in cents, rate).
VAT_CASES: dict[str, list[tuple[str, str, int, str]]] = {
    "standard": [("Consulting", "2.5", 40000, "25")],
    "zero": [("Export of services", "1", 50000, "0")],
    "franchise_293b": [("Prestation", "3", 12050, "0")],
    "mixed": [
        ("Consulting", "1.5", 100000, "25"),
        ("Food", "3", 1999, "15"),
        ("Transport", "2", 4550, "12"),
        ("Books", "4", 2995, "5.5"),
        ("Export", "1", 9000, "0"),
    ],
    "discount": [
        ("Subscription", "12", 4990, "20"),
        ("Loyalty discount", "1", -5988, "20"),
        ("Setup", "1", 10000, "20"),
    ],
}
SELLER_OF_LOCALE = {"fr": "FR", "en": "DK", "nb": "NO", "sv": "SE"}


def seller(country: str, **overrides: Any) -> dict[str, Any]:
    return {
        "email": "billing@example.com",
        "phone": None,
        "country": country,
        "iban": None,
        "bic": None,
        **SELLERS[country],
        **overrides,
    }


def buyer(locale: str, **overrides: Any) -> dict[str, Any]:
    return {
        "id": str(UUID(int=7)),
        "name": "Kunde Handel AS",
        "email": "ap@kunde.example",
        "phone": None,
        "address": "Storgata 2\n0155 Oslo",
        "country": "NO",
        "vat_number": "NO923609016MVA",
        "company_id": "923609016",
        "locale": locale,
        **overrides,
    }


def priced(lines: list[tuple[str, str, int, str]]) -> dict[str, Any]:
    """The lines and totals as the read side serves them, priced by the domain."""
    inputs = [InvoiceLine(d, Decimal(q), p, Decimal(r)) for d, q, p, r in lines]
    totals = price(inputs)
    return {
        "lines": [
            {
                "description": line.description,
                "quantity": str(line.quantity),
                "unit_price_cents": line.unit_price_cents,
                "tax_rate": str(line.tax_rate),
                "net_cents": net,
            }
            for line, net in zip(inputs, totals.net_cents, strict=True)
        ],
        "tax_breakdown": [
            {"rate": str(t.rate), "base_cents": t.base_cents, "tax_cents": t.tax_cents}
            for t in totals.tax_breakdown
        ],
        "subtotal_cents": totals.subtotal_cents,
        "tax_cents": totals.tax_cents,
        "total_cents": totals.total_cents,
    }


def invoice_response(
    locale: str,
    currency: str,
    lines: list[tuple[str, str, int, str]],
    *,
    seller_fields: dict[str, Any],
    buyer_fields: dict[str, Any] | None = None,
    notes: str | None = None,
) -> InvoiceResponse:
    amounts = priced(lines)
    buyer_fields = buyer_fields or buyer(locale)
    # Each line's VAT category and the breakdown by category, as the invoice decides them.
    amounts["lines"], amounts["tax_breakdown"] = categorized(
        amounts["lines"], amounts["tax_breakdown"], seller_fields, buyer_fields
    )
    return msgspec.convert(
        {
            "id": str(UUID(int=1)),
            "number": "F2026-00042",
            "client_id": str(UUID(int=7)),
            "currency": currency,
            "status": "sent",
            "issue_date": "2026-03-02",
            "due_date": "2026-04-01",
            "notes": notes,
            **amounts,
            "amount_paid_cents": 0,
            "amount_due_cents": amounts["total_cents"],
            "seller": seller_fields,
            "buyer": buyer_fields,
            "public_url": "https://fastfaktura.invalid/i/sample",
            "payment_reference": reference_for_number("F2026-00042", seller_fields.get("country")),
            "created_at": "2026-03-02T09:00:00Z",
            "updated_at": "2026-03-02T09:00:00Z",
        },
        InvoiceResponse,
        strict=False,
    )


def credit_note_response(
    invoice: InvoiceResponse, *, refund_due_cents: int = 0
) -> CreditNoteResponse:
    """A full credit of `invoice`."""
    data = msgspec.to_builtins(invoice)
    return msgspec.convert(
        {
            **{k: data[k] for k in ("client_id", "currency", "lines", "tax_breakdown")},
            **{k: data[k] for k in ("subtotal_cents", "tax_cents", "total_cents")},
            **{k: data[k] for k in ("seller", "buyer", "public_url", "created_at")},
            "id": str(UUID(int=2)),
            "number": "A2026-00007",
            "invoice_id": data["id"],
            "invoice_number": data["number"],
            "invoice_issue_date": data["issue_date"],
            "issue_date": "2026-03-09",
            "reason": "Two days billed twice",
            "refund_due_cents": refund_due_cents,
        },
        CreditNoteResponse,
        strict=False,
    )


def sample(
    locale: str, currency: str, case: str, *, credit: bool = False, **seller_overrides: Any
) -> InvoiceDocument:
    """The document of one cell of the matrix: the 293 B case has a French seller under the
    franchise (no VAT number), the others the seller of the client's locale's country."""
    if case == "franchise_293b":
        fields = seller("FR", vat_number=None, vat_exempt_293b=True, **seller_overrides)
    else:
        fields = seller(SELLER_OF_LOCALE[locale], **seller_overrides)
    invoice = invoice_response(locale, currency, VAT_CASES[case], seller_fields=fields)
    if credit:
        return build_credit_note_document(credit_note_response(invoice))
    return build_document(invoice, issued=True)


def peppol_fatal(xml: bytes) -> list[str]:
    """The fatal findings of peppol-ubl-validate's rule subset, but one false positive: its
    BR-CO-09 reads the first `PartyTaxScheme/CompanyID` whatever its scheme, where EN 16931
    means the VAT identifier (BT-31, scheme `VAT`); a VAT-exempt seller's tax registration
    (BT-32, scheme `TAX`, which BR-E-02 asks for) is not one."""
    tax_registrations = set(
        etree.fromstring(xml).xpath(
            "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme"
            "[cac:TaxScheme/cbc:ID != 'VAT']/cbc:CompanyID/text()",
            namespaces=NSMAP,
        )
    )
    return [
        str(finding)
        for finding in check_rules(xml)
        if finding.severity == "fatal"
        and not (
            finding.rule_id == "BR-CO-09"
            and any(f"'{registration}'" in finding.message for registration in tax_registrations)
        )
    ]
