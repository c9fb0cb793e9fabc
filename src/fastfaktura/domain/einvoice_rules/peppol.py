"""Peppol BIS Billing 3.0 rules that apply without a Peppol network (PEPPOL-EN16931-R*).

An electronic address (BT-34, BT-49) is what a Peppol or platform recipient routes by: an
organisation number, a VAT number or an email address serve (schemes 0002/0192/0007/0184,
9957..., EM)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from fastfaktura.domain.einvoice_rules.model import Document, Party
from fastfaktura.domain.einvoice_rules.registry import Broken, rule

PEPPOL = "Peppol BIS 3.0"


def _addressable(party: Party) -> bool:
    return bool(party.company_id or party.vat_number or party.email)


@rule(
    "PEPPOL-EN16931-R003",
    PEPPOL,
    "error",
    "A buyer reference (BT-10) or an order reference (BT-13) is given.",
)
def buyer_reference(doc: Document) -> Broken:
    if not (doc.buyer_reference and doc.buyer_reference.strip()):
        yield "client.external_id", "the e-invoice needs a buyer reference"


@rule(
    "PEPPOL-EN16931-R010",
    PEPPOL,
    "warning",
    "The buyer has an electronic address (BT-49): a company id, VAT number or email.",
)
def buyer_electronic_address(doc: Document) -> Broken:
    if not _addressable(doc.buyer):
        yield "client.email", "the client has no electronic address: add an email or company id"


@rule(
    "PEPPOL-EN16931-R020",
    PEPPOL,
    "error",
    "The seller has an electronic address (BT-34): a company id, VAT number or email.",
)
def seller_electronic_address(doc: Document) -> Broken:
    if not _addressable(doc.seller):
        yield "business.company_id", "the seller needs a company id, VAT number or email"


@rule(
    "PEPPOL-EN16931-R120",
    PEPPOL,
    "error",
    "Each line's net amount is quantity x unit price (to the cent).",
)
def line_net_amount(doc: Document) -> Broken:
    for index, line in enumerate(doc.lines):
        expected = (line.quantity * line.unit_price_cents).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
        if expected != line.net_cents:
            yield f"lines[{index}]", "the net amount is not quantity x unit price"
