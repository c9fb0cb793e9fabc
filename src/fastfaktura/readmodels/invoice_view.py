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
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


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


class TaxBreakdownItem(msgspec.Struct, kw_only=True):
    """The VAT of one rate: the sum of its lines' net amounts and the VAT on that sum."""

    rate: Rate
    base_cents: Annotated[int, described("Net amount taxed at this rate, minor units", 75000)]
    tax_cents: Annotated[int, described("VAT at this rate, minor units", 15000)]


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
