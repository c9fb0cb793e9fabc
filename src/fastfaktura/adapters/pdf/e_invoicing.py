"""An invoice document's e-invoicing parts, pure: its VAT categories (per line and breakdown
row), its terms (payment reference BT-83, operation category, delivery address, BT-111) and the
legal mentions they call for, formatted for the client's locale.

The UBL and CII generators read the raw values (`DocumentTerms`, `DocumentLine.vat_category`
...); the PDF template shows `DocumentTerms.rows` and the mentions.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
from babel.numbers import format_decimal

from fastfaktura.adapters.web.e_invoicing_labels import E_INVOICING_LABELS, reference_label
from fastfaktura.adapters.web.page import money
from fastfaktura.readmodels.invoice_view import InvoiceResponse


@dataclass(frozen=True)
class DocumentTerms:
    payment_reference: str
    operation_category: str
    delivery_address: str | None
    vat_on_debits: bool
    # BT-6 and BT-111 (with the rate they come from), when the invoice is in another currency.
    accounting_currency: str | None
    tax_exchange_rate: Decimal | None
    tax_cents_accounting: int | None
    # (label, value) pairs the PDF prints, in the client's locale.
    rows: tuple[tuple[str, str], ...]


def _given(value: Any) -> Any:
    return None if value is msgspec.UNSET else value


def category_lines(item: Any) -> dict[str, Any]:
    """A line's or breakdown row's category fields, for DocumentLine and VatAmount."""
    return {
        "vat_category": _given(item.vat_category) or "",
        "vat_exemption_reason": _given(item.vat_exemption_reason),
        "vat_exemption_code": _given(item.vat_exemption_code),
    }


def document_terms(invoice: InvoiceResponse, locale: str) -> DocumentTerms:
    words = E_INVOICING_LABELS[locale]
    reference = invoice.payment_reference
    rows = [
        (reference_label(reference, invoice.seller.country, locale), reference),
        (words["operation_category"], words[invoice.operation_category]),
    ]
    if invoice.delivery_address:
        rows.append((words["delivery_address"], invoice.delivery_address))
    rate = None if invoice.tax_exchange_rate is None else Decimal(invoice.tax_exchange_rate)
    if invoice.tax_cents_accounting is not None and invoice.accounting_currency and rate:
        label = words["tax_in_accounting"].format(
            currency=invoice.accounting_currency,
            rate=format_decimal(rate, locale=locale, decimal_quantization=False),
        )
        rows.append(
            (label, money(invoice.tax_cents_accounting, invoice.accounting_currency, locale))
        )
    return DocumentTerms(
        payment_reference=reference,
        operation_category=invoice.operation_category,
        delivery_address=invoice.delivery_address,
        vat_on_debits=invoice.seller.vat_on_debits,
        accounting_currency=invoice.accounting_currency,
        tax_exchange_rate=rate,
        tax_cents_accounting=invoice.tax_cents_accounting,
        rows=tuple(rows),
    )
