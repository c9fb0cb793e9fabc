"""The legal checks before issue (API.md "E-invoices and legal checks"): an invoice or a credit
note turned into the rule engine's document (domain/einvoice_rules), judged, and its broken
rules raised as one RulesBroken (422 listing each field and rule code) or reported.

The invoice's terms (operation category, delivery address, tax exchange rate, payment
reference: domain/invoice_terms.py) and each line's decided VAT category come from the
invoice itself, as its send will issue them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from fastfaktura.domain.business import Business
from fastfaktura.domain.credit_note import CreditNote
from fastfaktura.domain.einvoice_rules import (
    Document,
    Line,
    Party,
    Report,
    VatSubtotal,
    check_document,
)
from fastfaktura.domain.errors import LegalRuleBroken, RulesBroken
from fastfaktura.domain.invoice import Invoice


def _party(details: Mapping[str, Any]) -> Party:
    return Party(
        name=details.get("name"),
        country=details.get("country"),
        legal_name=details.get("legal_name"),
        address=details.get("address"),
        vat_number=details.get("vat_number"),
        company_id=details.get("company_id"),
        email=details.get("email"),
        iban=details.get("iban"),
        bic=details.get("bic"),
    )


def _lines(records: list[dict[str, Any]]) -> tuple[Line, ...]:
    return tuple(
        Line(
            description=line["description"],
            quantity=Decimal(line["quantity"]),
            unit_price_cents=int(line["unit_price_cents"]),
            vat_rate=Decimal(line["tax_rate"]),
            net_cents=int(line["net_cents"]),
            vat_category=line.get("vat_category"),
            vat_exemption_reason=line.get("vat_exemption_reason"),
        )
        for line in records
    )


def _breakdown(records: list[dict[str, Any]]) -> tuple[VatSubtotal, ...]:
    return tuple(
        VatSubtotal(Decimal(item["rate"]), int(item["base_cents"]), int(item["tax_cents"]))
        for item in records
    )


def _optional_decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def invoice_document(invoice: Invoice, business: Business) -> Document:
    """The invoice as its first send would issue it: its frozen seller and buyer (a draft's
    are frozen again at each edit), and the business's settings as they are now."""
    terms = invoice.terms
    accounting = terms.accounting_currency or business.field("currency")
    return Document(
        kind="invoice",
        number=invoice.number,
        issue_date=invoice.issue_date,
        currency=invoice.currency,
        seller=_party(invoice.seller),
        buyer=_party(invoice.buyer),
        lines=_lines(invoice.lines),
        vat_breakdown=_breakdown(invoice.tax_breakdown),
        subtotal_cents=invoice.subtotal_cents,
        tax_cents=invoice.tax_cents,
        total_cents=invoice.total_cents,
        due_date=invoice.due_date,
        amount_due_cents=invoice.amount_due_cents,
        accounting_currency=accounting,
        # BT-10: the invoice's number unless the UBL generator carries another reference.
        buyer_reference=invoice.number,
        vat_exempt_293b=bool(invoice.seller.get("vat_exempt_293b")),
        payment_reference=terms.payment_reference,
        operation_category=terms.operation_category,
        delivery_address=terms.delivery_address,
        tax_exchange_rate=_optional_decimal(terms.tax_exchange_rate),
        vat_on_debits=bool(invoice.seller.get("vat_on_debits", business.field("vat_on_debits"))),
    )


def credit_note_document(note: CreditNote, business: Business) -> Document:
    return Document(
        kind="credit_note",
        number=note.number,
        issue_date=note.issue_date,
        currency=note.currency,
        seller=_party(note.seller),
        buyer=_party(note.buyer),
        lines=_lines(note.lines),
        vat_breakdown=_breakdown(note.tax_breakdown),
        subtotal_cents=note.subtotal_cents,
        tax_cents=note.tax_cents,
        total_cents=note.total_cents,
        buyer_reference=note.invoice_number,
        preceding_invoice_number=note.invoice_number,
        vat_exempt_293b=bool(note.seller.get("vat_exempt_293b")),
        operation_category=business.field("operation_category"),
        vat_on_debits=business.field("vat_on_debits"),
    )


def require_valid(report: Report) -> None:
    """Refuse the issue with every broken rule (RulesBroken of LegalRuleBroken)."""
    if report.errors:
        raise RulesBroken([LegalRuleBroken(e.field, e.rule, e.message) for e in report.errors])


def check_invoice(invoice: Invoice, business: Business) -> Report:
    return check_document(invoice_document(invoice, business))


def check_credit_note(note: CreditNote, business: Business) -> Report:
    return check_document(credit_note_document(note, business))
