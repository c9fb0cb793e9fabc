"""Wire types (msgspec). Responses are built from read-model rows or, right after a write,
from the same rows computed from the aggregate, so both are always identical."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from fastfaktura.api.e_invoicing_schemas import (
    BusinessOperationCategory,
    DeliveryAddress,
    ExemptionReasonStated,
    OperationCategoryField,
    TaxExchangeRate,
    VatCategoryStated,
    VatOnDebits,
)
from fastfaktura.readmodels.business_view import BusinessResponse  # re-exported for the API
from fastfaktura.readmodels.client_view import ClientResponse  # re-exported for the API
from fastfaktura.readmodels.invoice_view import (  # the invoice view, re-exported for the API
    INVOICE_STATUSES,
    Buyer,
    Currency,
    EventList,
    EventResponse,
    InvoiceLineResponse,
    InvoiceResponse,
    InvoiceStatus,
    Locale,
    Seller,
    TaxBreakdownItem,
    exact_number,
)

__all__ = [
    "INVOICE_STATUSES",
    "BusinessResponse",
    "Buyer",
    "ClientResponse",
    "Currency",
    "EventList",
    "EventResponse",
    "InvoiceLineResponse",
    "InvoiceResponse",
    "InvoiceStatus",
    "Locale",
    "Seller",
    "TaxBreakdownItem",
    "exact_number",
]


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
# Text as api/input.py takes it: no control character (C0 but tab, newline and carriage
# return; DEL), and not blank.
_PRINTABLE = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*"
NON_BLANK_TEXT = f"^{_PRINTABLE}[^\\s\\x00-\\x1f\\x7f]{_PRINTABLE}$"
Text = Annotated[str, Meta(min_length=1, pattern=NON_BLANK_TEXT)]
Tag = Annotated[str, Meta(min_length=1, max_length=100, pattern=NON_BLANK_TEXT)]
_UNSET: Any = msgspec.UNSET


class ClientCreateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[
        str, Meta(min_length=1, max_length=200, pattern=NON_BLANK_TEXT, examples=["Acme SARL"])
    ]
    email: Email | None = _UNSET
    phone: Phone | None = _UNSET
    address: Text | None = _UNSET
    country: Country | None = _UNSET
    locale: Locale = _UNSET
    external_id: (
        Annotated[
            str,
            Meta(max_length=255, pattern=NON_BLANK_TEXT, description="Unique among live clients"),
        ]
        | None
    ) = _UNSET
    tags: Annotated[list[Tag], Meta(max_length=50)] = _UNSET
    vat_number: Text | None = _UNSET
    company_id: (
        Annotated[str, Meta(pattern=NON_BLANK_TEXT, description="SIREN, org nr, ...")] | None
    ) = _UNSET


class ClientUpdateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Merge: omitted fields keep their value, null clears a nullable field."""

    name: Annotated[str, Meta(min_length=1, max_length=200, pattern=NON_BLANK_TEXT)] = _UNSET
    email: Email | None = _UNSET
    phone: Phone | None = _UNSET
    address: Text | None = _UNSET
    country: Country | None = _UNSET
    locale: Locale = _UNSET
    external_id: str | None = _UNSET
    tags: Annotated[list[Tag], Meta(max_length=50)] = _UNSET
    vat_number: Text | None = _UNSET
    company_id: str | None = _UNSET


class BusinessUpdateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Merge: omitted fields keep their value, null clears a nullable field."""

    name: Annotated[str, Meta(min_length=1, max_length=200, pattern=NON_BLANK_TEXT)] = _UNSET
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
    credit_note_prefix: Annotated[
        str,
        Meta(
            pattern=r"^[A-Za-z0-9_-]{1,10}$",
            examples=["A"],
            description="Credit notes' numbers: {credit_note_prefix}{YYYY}-{NNNNN}",
        ),
    ] = _UNSET
    vat_on_debits: VatOnDebits = _UNSET
    operation_category: BusinessOperationCategory = _UNSET


# -- invoices -----------------------------------------------------------------------------------

# Decimals may also be written as strings, judged as written (a value, not its rounding).
_QUANTITY = r"^[0-9]{1,9}(\.[0-9]{1,4})?$"
_TAX_RATE = r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$"


class InvoicePage(msgspec.Struct, kw_only=True):
    data: list[InvoiceResponse]
    page: int
    per_page: int
    total: int


class CreditLineRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A line: an invoice's, or a credit note's credited amounts."""

    description: Annotated[
        str, Meta(min_length=1, max_length=1000, pattern=NON_BLANK_TEXT, examples=["Consulting"])
    ]
    quantity: (
        Annotated[
            float,
            Meta(
                gt=0,
                le=1_000_000_000,
                multiple_of=0.0001,
                description="Up to 4 decimals",
                examples=[1],
            ),
        ]
        | Annotated[str, Meta(pattern=_QUANTITY, description="> 0, at most 1e9", examples=["2.25"])]
    )
    unit_price_cents: Annotated[
        int,
        Meta(
            ge=-(10**12),
            le=10**12,
            description="Minor units; negative for a discount",
            examples=[50000],
        ),
    ]
    tax_rate: (
        Annotated[
            float,
            Meta(
                ge=0,
                le=100,
                multiple_of=0.01,
                description="Percent, up to 2 decimals",
                examples=[20],
            ),
        ]
        | Annotated[str, Meta(pattern=_TAX_RATE, description="0 to 100", examples=["5.5"])]
    )


class InvoiceLineRequest(CreditLineRequest, kw_only=True, forbid_unknown_fields=True):
    """An invoice's line, which may state its own VAT category (else decided from the facts)."""

    vat_category: VatCategoryStated | None = _UNSET
    vat_exemption_reason: ExemptionReasonStated | None = _UNSET


class InvoiceCreateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    client_id: UUID
    currency: Currency
    due_date: (
        Annotated[date, Meta(description="Default: issue date + payment_terms_days")] | None
    ) = _UNSET
    notes: Annotated[str, Meta(max_length=5000, pattern=NON_BLANK_TEXT)] | None = _UNSET
    lines: Annotated[list[InvoiceLineRequest], Meta(min_length=1, max_length=500)]
    operation_category: OperationCategoryField | None = _UNSET
    delivery_address: DeliveryAddress | None = _UNSET
    tax_exchange_rate: TaxExchangeRate | None = _UNSET


class InvoiceUpdateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A draft's edit, merged: omitted fields keep their value, `lines` replaces them all,
    `notes: null` clears, `due_date: null` takes the creation default."""

    client_id: UUID = _UNSET
    currency: Currency = _UNSET
    due_date: Annotated[date, Meta(description="Null: issue date + payment_terms_days")] | None = (
        _UNSET
    )
    notes: Annotated[str, Meta(max_length=5000, pattern=NON_BLANK_TEXT)] | None = _UNSET
    lines: Annotated[list[InvoiceLineRequest], Meta(min_length=1, max_length=500)] = _UNSET
    operation_category: OperationCategoryField | None = _UNSET
    delivery_address: DeliveryAddress | None = _UNSET
    tax_exchange_rate: TaxExchangeRate | None = _UNSET


class PaymentRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    amount_cents: Annotated[
        int, Meta(ge=1, le=10**15, description="At most the amount due", examples=[12000])
    ]
    method: Literal["bank_transfer", "card", "cash", "other"]
    paid_at: Annotated[datetime, Meta(description="Default: now")] | None = _UNSET
    reference: Annotated[str, Meta(max_length=200, pattern=NON_BLANK_TEXT)] | None = _UNSET


class CancelRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: (
        Annotated[str, Meta(max_length=1000, pattern=NON_BLANK_TEXT, examples=["Issued twice"])]
        | None
    ) = _UNSET


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
    # A credit note's message: the invoice it credits (so `?invoice_id=` finds it too).
    invoice_id: UUID
    channel: Channel
    to: str | None
    subject: str | None
    body: str
    url: str
    attachments: list[AttachmentResponse]
    created_at: datetime
    # The credit note a message sends; null for an invoice's message.
    credit_note_id: UUID | None = None


class SandboxMessagePage(msgspec.Struct, kw_only=True):
    data: list[SandboxMessage]
    page: int
    per_page: int
    total: int


# -- credit notes (the response struct is readmodels/credit_note_view.py) -----------------------


class CreditNoteCreateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[
        str,
        Meta(min_length=1, max_length=1000, pattern=NON_BLANK_TEXT, examples=["Returned goods"]),
    ]
    lines: (
        Annotated[
            list[CreditLineRequest],
            Meta(
                min_length=1,
                max_length=500,
                description="Credited amounts (positive). Omitted: all not yet credited",
            ),
        ]
        | msgspec.UnsetType
    ) = _UNSET


class RefundRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    amount_cents: Annotated[
        int, Meta(ge=1, le=10**15, description="At most the refund due", examples=[50000])
    ]
    method: Literal["bank_transfer", "card", "cash", "other"]
    reference: Annotated[str, Meta(max_length=200, pattern=NON_BLANK_TEXT)] | None = _UNSET
