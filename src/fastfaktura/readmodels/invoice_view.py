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

from fastfaktura.readmodels.wire_types import (
    Bic,
    ClientId,
    CompanyId,
    CreatedAt,
    Iban,
    InvoiceId,
    IssueDate,
    LegalName,
    PartyAddress,
    PartyCountry,
    PartyEmail,
    PartyName,
    PartyPhone,
    Rate,
    UpdatedAt,
    VatNumber,
    described,
)

Locale = Literal["fr", "en", "nb", "sv"]
Currency = Literal["EUR", "USD", "GBP", "NOK", "SEK", "DKK"]


InvoiceStatus = Literal["draft", "sent", "opened", "paid", "overdue", "cancelled"]
INVOICE_STATUSES: tuple[str, ...] = ("draft", "sent", "opened", "paid", "overdue", "cancelled")


def exact_number(value: str | int | Decimal) -> int | float:
    """A stored decimal string as a JSON number: an int when whole. Exact, as quantities have
    at most 4 decimals and rates 2 (well within a double's 15 significant digits)."""
    # A Decimal already (a folded aggregate's lines): not through its text again.
    number = value if type(value) is Decimal else Decimal(str(value))
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
    """One line of an invoice or a credit note, priced."""

    description: Annotated[str, described("What is invoiced", "Consulting")]
    quantity: Annotated[int | float, described("Quantity (up to 4 decimals)", 1.5)]
    unit_price_cents: Annotated[
        int, described("Unit price before VAT, minor units; negative for a discount", 50000)
    ]
    tax_rate: Rate
    net_cents: Annotated[
        int, described("quantity x unit price, rounded half-up, minor units", 75000)
    ]
    vat_category: LineCategory | UnsetType = UNSET
    vat_exemption_reason: ExemptionReason | UnsetType = UNSET
    vat_exemption_code: ExemptionCode | UnsetType = UNSET


class TaxBreakdownItem(msgspec.Struct, kw_only=True):
    """One row of the VAT breakdown (BG-23), by category and rate: the sum of its lines' net
    amounts and the VAT on that sum."""

    rate: Rate
    base_cents: Annotated[int, described("Net amount taxed at this rate, minor units", 75000)]
    tax_cents: Annotated[int, described("VAT at this rate, minor units", 15000)]
    vat_category: LineCategory | UnsetType = UNSET
    vat_exemption_reason: ExemptionReason | UnsetType = UNSET
    vat_exemption_code: ExemptionCode | UnsetType = UNSET


class Seller(msgspec.Struct, kw_only=True):
    """The business's legal details, frozen into the invoice when it was created."""

    name: PartyName
    legal_name: LegalName
    email: PartyEmail
    phone: PartyPhone
    address: PartyAddress
    country: PartyCountry
    vat_number: VatNumber
    company_id: CompanyId
    iban: Iban
    bic: Bic
    # Invoices created before these settings existed carry none: the defaults apply.
    vat_exempt_293b: Annotated[
        bool, described("France: VAT franchise, art. 293 B du CGI (printed)", False)
    ] = False
    late_payment_rate: Annotated[
        int | float | str | None,
        described("France: contractual late-payment rate, percent (printed)", 10),
    ] = None
    f_skatt: Annotated[bool, described("Sweden: approved for F-tax (printed)", False)] = False
    vat_on_debits: Annotated[
        bool,
        Meta(description="France: the seller pays VAT on debits (frozen)", examples=[False]),
    ] = False


class Buyer(msgspec.Struct, kw_only=True):
    """The client's details, frozen into the invoice when it was created."""

    id: ClientId
    name: PartyName
    email: PartyEmail
    phone: PartyPhone
    address: PartyAddress
    country: PartyCountry
    vat_number: VatNumber
    company_id: CompanyId
    locale: Annotated[Locale, described("The language of the client's documents", "fr")]


class EventResponse(msgspec.Struct, kw_only=True):
    """One event of a document's story, as the event store holds it."""

    id: Annotated[UUID, described("The event's id", "9a1f3e0c-5b7d-4f2a-8c6e-1d0b9a8f7e6d")]
    type: Annotated[
        str,
        described(
            "What happened, e.g. for an invoice created, changed, sent, reminder_sent, "
            "opened, overdue, payment_recorded, paid, credited, cancelled; for a credit note "
            "issued, refund_recorded",
            "sent",
        ),
    ]
    version: Annotated[int, described("Its position in the document's stream, from 1", 2)]
    occurred_at: Annotated[
        datetime, described("When it happened (RFC 3339, UTC)", "2026-11-24T10:05:00Z")
    ]
    data: Annotated[
        dict[str, Any],
        described("What the event recorded (its fields depend on `type`)", {"channels": ["email"]}),
    ]


class EventList(msgspec.Struct, kw_only=True):
    """A document's events, oldest first."""

    data: Annotated[list[EventResponse], described("The events, oldest first")]


class InvoiceResponse(msgspec.Struct, kw_only=True):
    """An invoice: its parties frozen at creation, its lines, totals, payments and status."""

    id: InvoiceId
    number: Annotated[
        str,
        described("{invoice_prefix}{YYYY}-{NNNNN}, gapless per business and year", "F2026-00001"),
    ]
    client_id: ClientId
    currency: Annotated[Currency, described("ISO 4217 currency of every amount", "EUR")]
    status: Annotated[InvoiceStatus, described("Where the invoice is in its lifecycle", "sent")]
    issue_date: IssueDate
    due_date: Annotated[date, described("The date payment is due", "2026-12-24")]
    notes: Annotated[
        str | None, described("Free text printed on the invoice", "Thank you for your business")
    ]
    lines: Annotated[list[InvoiceLineResponse], described("The lines, in order")]
    subtotal_cents: Annotated[int, described("Total before VAT, minor units", 75000)]
    tax_cents: Annotated[int, described("Total VAT, minor units", 15000)]
    total_cents: Annotated[int, described("Total with VAT, minor units", 90000)]
    tax_breakdown: Annotated[list[TaxBreakdownItem], described("The VAT per rate")]
    amount_paid_cents: Annotated[int, described("Sum of the payments recorded, minor units", 40000)]
    amount_due_cents: Annotated[
        int, described("Still to pay: total - paid - credited, minor units", 50000)
    ]
    # What credit notes credited (API.md "Credit notes"); amount due = total - paid - this.
    amount_credited_cents: Annotated[
        int, described("Sum of the credit notes issued against it, minor units", 0)
    ] = 0
    seller: Seller
    buyer: Buyer
    public_url: Annotated[
        str,
        described(
            "The client's page of the invoice (no key needed; unguessable token)",
            "https://app.fastfaktura.io/i/qVR_wiU8kj-3hp69r_cMy-shoozw5hnb",
        ),
    ]
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
    created_at: CreatedAt
    updated_at: UpdatedAt
    events: Annotated[
        list[EventResponse] | msgspec.UnsetType,
        described("Its events, oldest first (only in `GET /invoices/{id}`)"),
    ] = msgspec.UNSET

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
