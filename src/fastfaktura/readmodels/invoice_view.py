"""The invoice as the read side serves it: one msgspec view built from an `rm_invoices` row
(or the same row computed from the aggregate right after a write).

The API answers with it, and the documents (PDF), the public page and the delivery worker
build on it, so it lives here rather than in the HTTP layer.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

import msgspec

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
    description: str
    quantity: int | float
    unit_price_cents: int
    tax_rate: int | float
    net_cents: int


class TaxBreakdownItem(msgspec.Struct, kw_only=True):
    rate: int | float
    base_cents: int
    tax_cents: int


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
    created_at: datetime
    updated_at: datetime
    events: list[EventResponse] | msgspec.UnsetType = msgspec.UNSET

    @classmethod
    def from_row(cls, row: dict[str, Any], base_url: str) -> InvoiceResponse:
        def decoded(value: Any) -> Any:
            return msgspec.json.decode(value) if isinstance(value, str | bytes) else value

        lines = [
            {
                **line,
                "quantity": exact_number(line["quantity"]),
                "tax_rate": exact_number(line["tax_rate"]),
            }
            for line in decoded(row["lines"])
        ]
        breakdown = [
            {**item, "rate": exact_number(item["rate"])} for item in decoded(row["tax_breakdown"])
        ]
        return msgspec.convert(
            {
                **row,
                "lines": lines,
                "tax_breakdown": breakdown,
                "seller": decoded(row["seller"]),
                "buyer": decoded(row["buyer"]),
                "public_url": f"{base_url}/i/{row['public_token']}",
            },
            cls,
            strict=False,
        )
