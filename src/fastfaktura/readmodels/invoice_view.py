"""The invoice as the read side serves it: one msgspec view built from an `rm_invoices` row
(or the same row computed from the aggregate right after a write).

The API answers with it, and the documents (PDF), the public page and the delivery worker
build on it, so it lives here rather than in the HTTP layer.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

Locale = Literal["fr", "en", "nb", "sv"]
Currency = Literal["EUR", "USD", "GBP", "NOK", "SEK", "DKK"]


InvoiceStatus = Literal["draft", "sent", "opened", "paid", "overdue", "cancelled"]
INVOICE_STATUSES: tuple[str, ...] = ("draft", "sent", "opened", "paid", "overdue", "cancelled")


def exact_number(value: str | int | Decimal) -> int | float:
    """A stored decimal string as a JSON number: an int when whole. Exact, as quantities have
    at most 4 decimals and rates 2 (well within a double's 15 significant digits)."""
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


# EN 16931 VAT categories (UNTDID 5305) FastFaktura decides (domain/vat_categories.py).
VatCategory = Literal["S", "Z", "E", "AE", "G"]
OperationCategory = Literal["goods", "services", "mixed"]
# The fields below are UNSET (left out of the JSON) on a credit note's lines, which share
# these structs and carry no category of their own yet.
LineCategory = Annotated[
    VatCategory,
    Meta(
        description=(
            "VAT category (BT-151): S above 0 %; at 0 %, AE reverse charge (B2B client with a "
            "VAT number in another EU country), G export (client outside the EU), E exempt "
            "(e.g. art. 293 B du CGI), else Z. Stated by the line or decided from the facts."
        ),
        examples=["S", "AE"],
    ),
]
ExemptionReason = Annotated[
    str | None,
    Meta(
        description="VAT exemption reason (BT-120), for E, AE and G",
        examples=["Reverse charge", "TVA non applicable, art. 293 B du CGI"],
    ),
]
ExemptionCode = Annotated[
    str | None,
    Meta(
        description="VAT exemption reason code (BT-121, VATEX list), for E, AE and G",
        examples=["VATEX-EU-AE", "VATEX-FR-FRANCHISE"],
    ),
]


class InvoiceLineResponse(msgspec.Struct, kw_only=True):
    description: str
    quantity: int | float
    unit_price_cents: int
    tax_rate: int | float
    net_cents: int
    vat_category: LineCategory | UnsetType = UNSET
    vat_exemption_reason: ExemptionReason | UnsetType = UNSET
    vat_exemption_code: ExemptionCode | UnsetType = UNSET


class TaxBreakdownItem(msgspec.Struct, kw_only=True):
    """One row of the VAT breakdown (BG-23), by category and rate."""

    rate: int | float
    base_cents: int
    tax_cents: int
    vat_category: LineCategory | UnsetType = UNSET
    vat_exemption_reason: ExemptionReason | UnsetType = UNSET
    vat_exemption_code: ExemptionCode | UnsetType = UNSET


class Seller(msgspec.Struct, kw_only=True):
    """The business's legal details, frozen into the invoice when it was created."""

    name: str
    legal_name: str | None
    email: str | None
    phone: str | None
    address: str | None
    country: str | None
    vat_number: str | None
    company_id: str | None
    iban: str | None
    bic: str | None
    # Invoices created before these settings existed carry none: the defaults apply.
    vat_exempt_293b: bool = False
    late_payment_rate: int | float | str | None = None
    f_skatt: bool = False
    vat_on_debits: Annotated[
        bool,
        Meta(description="France: the seller pays VAT on debits (frozen)", examples=[False]),
    ] = False


class Buyer(msgspec.Struct, kw_only=True):
    """The client's details, frozen into the invoice when it was created."""

    id: UUID
    name: str
    email: str | None
    phone: str | None
    address: str | None
    country: str | None
    vat_number: str | None
    company_id: str | None
    locale: Locale


class EventResponse(msgspec.Struct, kw_only=True):
    id: UUID
    type: str
    version: int
    occurred_at: datetime
    data: dict[str, Any]


class EventList(msgspec.Struct, kw_only=True):
    data: list[EventResponse]


class InvoiceResponse(msgspec.Struct, kw_only=True):
    id: UUID
    number: str
    client_id: UUID
    currency: Currency
    status: InvoiceStatus
    issue_date: date
    due_date: date
    notes: str | None
    lines: list[InvoiceLineResponse]
    subtotal_cents: int
    tax_cents: int
    total_cents: int
    tax_breakdown: list[TaxBreakdownItem]
    amount_paid_cents: int
    amount_due_cents: int
    # What credit notes credited (API.md "Credit notes"); amount due = total - paid - this.
    amount_credited_cents: int = 0
    seller: Seller
    buyer: Buyer
    public_url: str
    # E-invoicing (API.md "E-invoices and legal checks", "Payment references").
    operation_category: Annotated[
        OperationCategory,
        Meta(
            description="Operation category (French reform): default the business's",
            examples=["services"],
        ),
    ] = "services"
    delivery_address: Annotated[
        str | None,
        Meta(
            description="Delivery address (BG-15), when it differs from the client's",
            examples=["Entrepôt 3\n12 rue des Docks\n13002 Marseille"],
        ),
    ] = None
    tax_exchange_rate: Annotated[
        str | None,
        Meta(
            description=(
                "Units of the accounting currency for one unit of the invoice currency "
                "(decimal string, up to 6 decimals); for an invoice in another currency"
            ),
            examples=["11.4521"],
        ),
    ] = None
    accounting_currency: Annotated[
        Currency | None,
        Meta(
            description="The business's accounting currency (BT-6) when the invoice was decided",
            examples=["NOK"],
        ),
    ] = None
    tax_cents_accounting: Annotated[
        int | None,
        Meta(
            description=(
                "BT-111: round(tax_cents * tax_exchange_rate), half away from zero, in the "
                "accounting currency's minor units; null in that currency or without a rate"
            ),
            examples=[229042],
        ),
    ] = None
    payment_reference: Annotated[
        str,
        Meta(
            description=(
                "Payment reference (BT-83), unique within the business: ISO 11649 RF by "
                "default, a KID for a Norwegian seller, an OCR number for a Swedish one"
            ),
            examples=["RF89202600042", "2026000428", "20260004211"],
        ),
    ]
    created_at: datetime
    updated_at: datetime
    events: list[EventResponse] | msgspec.UnsetType = msgspec.UNSET

    @classmethod
    def from_row(cls, row: dict[str, Any], base_url: str) -> InvoiceResponse:
        return msgspec.convert(
            {**row, **priced_fields(row), "public_url": f"{base_url}/i/{row['public_token']}"},
            cls,
            strict=False,
        )


def _decoded(value: Any) -> Any:
    """A json column: asyncpg hands it over as text, a computed row as Python values."""
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


def priced_fields(row: dict[str, Any]) -> dict[str, Any]:
    """The lines, VAT breakdown and parties of an invoice's or a credit note's row, decoded,
    with quantities and rates as exact JSON numbers."""
    return {
        "lines": [
            {
                **line,
                "quantity": exact_number(line["quantity"]),
                "tax_rate": exact_number(line["tax_rate"]),
            }
            for line in _decoded(row["lines"])
        ],
        "tax_breakdown": [
            {**item, "rate": exact_number(item["rate"])} for item in _decoded(row["tax_breakdown"])
        ],
        "seller": _decoded(row["seller"]),
        "buyer": _decoded(row["buyer"]),
    }
