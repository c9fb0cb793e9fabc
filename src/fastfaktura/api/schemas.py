"""Wire types (msgspec). Responses are built from read-model rows or, right after a write,
from the same rows computed from the aggregate, so both are always identical."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

Locale = Literal["fr", "en", "nb", "sv"]
Currency = Literal["EUR", "USD", "GBP", "NOK", "SEK", "DKK"]


class BusinessResponse(msgspec.Struct, kw_only=True):
    id: UUID
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
    currency: Currency
    locale: Locale
    payment_terms_days: int
    invoice_prefix: str
    vat_exempt_293b: bool
    late_payment_rate: int | float | None
    f_skatt: bool
    mode: Literal["sandbox", "live"]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> BusinessResponse:
        rate = row.get("late_payment_rate")
        late_payment_rate = None if rate is None else exact_number(rate)
        return msgspec.convert(
            {**row, "id": row["business_id"], "late_payment_rate": late_payment_rate},
            cls,
            from_attributes=False,
            strict=False,
        )


class ClientResponse(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    email: str | None
    phone: str | None
    address: str | None
    country: str | None
    locale: Locale
    external_id: str | None
    tags: list[str]
    vat_number: str | None
    company_id: str | None
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ClientResponse:
        return msgspec.convert(row, cls, strict=False)


class ClientPage(msgspec.Struct, kw_only=True):
    data: list[ClientResponse]
    page: int
    per_page: int
    total: int


# -- request bodies, for the OpenAPI document (the checks themselves live in api/fields.py) --

Email = Annotated[str, Meta(max_length=254, examples=["billing@example.com"])]
Phone = Annotated[str, Meta(pattern=r"^\+[1-9][0-9]{1,14}$", examples=["+33612345678"])]
Country = Annotated[
    str, Meta(min_length=2, max_length=2, examples=["FR"], description="ISO 3166-1 alpha-2")
]
Text = Annotated[str, Meta(min_length=1)]
_UNSET: Any = msgspec.UNSET


class ClientCreateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=200, examples=["Acme SARL"])]
    email: Email | None = _UNSET
    phone: Phone | None = _UNSET
    address: Text | None = _UNSET
    country: Country | None = _UNSET
    locale: Locale = _UNSET
    external_id: (
        Annotated[str, Meta(max_length=255, description="Unique among live clients")] | None
    ) = _UNSET
    tags: list[str] = _UNSET
    vat_number: Text | None = _UNSET
    company_id: Annotated[str, Meta(description="SIREN, org nr, ...")] | None = _UNSET


class ClientUpdateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Merge: omitted fields keep their value, null clears a nullable field."""

    name: Annotated[str, Meta(min_length=1, max_length=200)] = _UNSET
    email: Email | None = _UNSET
    phone: Phone | None = _UNSET
    address: Text | None = _UNSET
    country: Country | None = _UNSET
    locale: Locale = _UNSET
    external_id: str | None = _UNSET
    tags: list[str] = _UNSET
    vat_number: Text | None = _UNSET
    company_id: str | None = _UNSET


class BusinessUpdateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Merge: omitted fields keep their value, null clears a nullable field."""

    name: Annotated[str, Meta(min_length=1, max_length=200)] = _UNSET
    legal_name: Text | None = _UNSET
    email: Email | None = _UNSET
    phone: Phone | None = _UNSET
    address: Text | None = _UNSET
    country: Country | None = _UNSET
    vat_number: Text | None = _UNSET
    company_id: Text | None = _UNSET
    iban: Annotated[str, Meta(examples=["FR7630006000011234567890189"])] | None = _UNSET
    bic: Annotated[str, Meta(examples=["AGRIFRPP"])] | None = _UNSET
    currency: Currency = _UNSET
    locale: Locale = _UNSET
    payment_terms_days: Annotated[int, Meta(ge=0, le=365)] = _UNSET
    invoice_prefix: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,10}$", examples=["F"])] = _UNSET
    vat_exempt_293b: Annotated[
        bool, Meta(description="France: VAT franchise, art. 293 B du CGI (printed on invoices)")
    ] = _UNSET
    late_payment_rate: (
        Annotated[
            float, Meta(ge=0, le=100, description="France: contractual late-payment rate, percent")
        ]
        | None
    ) = _UNSET
    f_skatt: Annotated[
        bool, Meta(description="Sweden: approved for F-tax (Godkänd för F-skatt)")
    ] = _UNSET


# -- invoices -----------------------------------------------------------------------------------

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


class InvoicePage(msgspec.Struct, kw_only=True):
    data: list[InvoiceResponse]
    page: int
    per_page: int
    total: int


class InvoiceLineRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    description: Annotated[str, Meta(min_length=1, max_length=1000, examples=["Consulting"])]
    quantity: Annotated[
        float, Meta(gt=0, description="Decimal > 0, up to 4 decimals", examples=[1])
    ]
    unit_price_cents: Annotated[
        int, Meta(description="Minor units; negative for a discount", examples=[50000])
    ]
    tax_rate: Annotated[
        float, Meta(ge=0, le=100, description="Percent, up to 2 decimals", examples=[20])
    ]


class InvoiceCreateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    client_id: UUID
    currency: Currency
    due_date: (
        Annotated[date, Meta(description="Default: issue date + payment_terms_days")] | None
    ) = _UNSET
    notes: Annotated[str, Meta(max_length=5000)] | None = _UNSET
    lines: Annotated[list[InvoiceLineRequest], Meta(min_length=1, max_length=500)]


class PaymentRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    amount_cents: Annotated[int, Meta(ge=1, description="At most the amount due", examples=[12000])]
    method: Literal["bank_transfer", "card", "cash", "other"]
    paid_at: Annotated[datetime, Meta(description="Default: now")] | None = _UNSET
    reference: Annotated[str, Meta(max_length=200)] | None = _UNSET


class CancelRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, Meta(max_length=1000, examples=["Issued twice"])] | None = _UNSET


Channel = Literal["email", "sms", "link"]


class SendRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    channels: Annotated[
        list[Channel], Meta(min_length=1, max_length=3, examples=[["email", "link"]])
    ]
    reminder: Annotated[bool, Meta(description="A reminder of a sent invoice")] = False


class DeliveryResponse(msgspec.Struct, kw_only=True):
    channel: Channel
    to: str | None
    status: Literal["simulated", "pending", "delivered", "failed"]
    url: str


class SendResponse(msgspec.Struct, kw_only=True):
    invoice: InvoiceResponse
    deliveries: list[DeliveryResponse]


class AttachmentResponse(msgspec.Struct, kw_only=True):
    filename: str
    content_type: str
    size: int


class SandboxMessage(msgspec.Struct, kw_only=True):
    id: UUID
    invoice_id: UUID
    channel: Channel
    to: str | None
    subject: str | None
    body: str
    url: str
    attachments: list[AttachmentResponse]
    created_at: datetime


class SandboxMessagePage(msgspec.Struct, kw_only=True):
    data: list[SandboxMessage]
    page: int
    per_page: int
    total: int
