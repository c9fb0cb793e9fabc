"""Wire types (msgspec). Responses are built from read-model rows or, right after a write,
from the same rows computed from the aggregate, so both are always identical."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from fastfaktura.api.body_fields import (  # re-exported: request bodies elsewhere use them
    COMPANY_ID,
    EXTERNAL_ID,
    NON_BLANK_TEXT,
    QUANTITY,
    TAX_RATE,
    Address,
    ClientLocale,
    ClientName,
    Country,
    Email,
    Notes,
    PageNumber,
    PaymentMethod,
    PaymentReference,
    PerPageCount,
    Phone,
    Tags,
    Text,
    Total,
    VatNumber,
)
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
from fastfaktura.readmodels.wire_types import EXAMPLE_CLIENT_ID, EXAMPLE_IBAN, described

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
    """A page of clients."""

    data: Annotated[list[ClientResponse], described("The clients of this page")]
    page: PageNumber
    per_page: PerPageCount
    total: Total


# -- request bodies, for the OpenAPI document (the checks themselves live in api/fields.py) --

_UNSET: Any = msgspec.UNSET


class ClientCreateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new client. Only `name` is required."""

    name: ClientName
    email: Email | None = _UNSET
    phone: Phone | None = _UNSET
    address: Address = _UNSET
    country: Country | None = _UNSET
    locale: Annotated[
        Locale, described("The language of its documents (default: the business's)", "fr")
    ] = _UNSET
    external_id: (
        Annotated[str, Meta(max_length=255, pattern=NON_BLANK_TEXT), EXTERNAL_ID] | None
    ) = _UNSET
    tags: Tags = _UNSET
    vat_number: VatNumber = _UNSET
    company_id: Annotated[str, Meta(pattern=NON_BLANK_TEXT), COMPANY_ID] | None = _UNSET


class ClientUpdateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Merge: omitted fields keep their value, null clears a nullable field."""

    name: ClientName = _UNSET
    email: Email | None = _UNSET
    phone: Phone | None = _UNSET
    address: Address = _UNSET
    country: Country | None = _UNSET
    locale: ClientLocale = _UNSET
    external_id: Annotated[str, EXTERNAL_ID] | None = _UNSET
    tags: Tags = _UNSET
    vat_number: VatNumber = _UNSET
    company_id: Annotated[str, COMPANY_ID] | None = _UNSET


class BusinessUpdateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Merge: omitted fields keep their value, null clears a nullable field."""

    name: ClientName = _UNSET
    legal_name: (
        Annotated[Text, described("The registered legal name, when it differs", "Demo SAS")] | None
    ) = _UNSET
    email: Email | None = _UNSET
    phone: Phone | None = _UNSET
    address: Address = _UNSET
    country: Country | None = _UNSET
    vat_number: VatNumber = _UNSET
    company_id: Annotated[Text, COMPANY_ID] | None = _UNSET
    iban: Annotated[str, described("IBAN printed for bank transfers", EXAMPLE_IBAN)] | None = _UNSET
    bic: (
        Annotated[str, Meta(examples=["AGRIFRPP"], description="BIC of the IBAN's bank")] | None
    ) = _UNSET
    currency: Annotated[Currency, described("Default currency of new invoices", "EUR")] = _UNSET
    locale: Annotated[Locale, described("Default language of new clients' documents", "fr")] = (
        _UNSET
    )
    payment_terms_days: Annotated[
        int,
        Meta(ge=0, le=365, description="Days from issue to the default due date", examples=[30]),
    ] = _UNSET
    invoice_prefix: Annotated[
        str,
        Meta(
            pattern=r"^[A-Za-z0-9_-]{1,10}$",
            examples=["F"],
            description="Invoices' numbers: {invoice_prefix}{YYYY}-{NNNNN}",
        ),
    ] = _UNSET
    vat_exempt_293b: Annotated[
        bool,
        Meta(
            description="France: VAT franchise, art. 293 B du CGI (printed on invoices)",
            examples=[False],
        ),
    ] = _UNSET
    late_payment_rate: (
        Annotated[
            float,
            Meta(
                ge=0,
                le=100,
                description="France: contractual late-payment rate, percent",
                examples=[10],
            ),
        ]
        | None
    ) = _UNSET
    f_skatt: Annotated[
        bool,
        Meta(description="Sweden: approved for F-tax (Godkänd för F-skatt)", examples=[False]),
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


# -- invoices (their checks: api/fields.py) ---------------------------------------------------


class InvoicePage(msgspec.Struct, kw_only=True):
    """A page of invoices."""

    data: Annotated[list[InvoiceResponse], described("The invoices of this page")]
    page: PageNumber
    per_page: PerPageCount
    total: Total


class CreditLineRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One line: what, how many, at what unit price and VAT rate (an invoice's, or a credit
    note's credited amounts)."""

    description: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=1000,
            pattern=NON_BLANK_TEXT,
            examples=["Consulting"],
            description="What is invoiced",
        ),
    ]
    # The description of the first branch is the property's (api/openapi.py hoists it).
    quantity: (
        Annotated[
            float,
            Meta(
                gt=0,
                le=1_000_000_000,
                multiple_of=0.0001,
                description="Quantity, > 0 and at most 1e9, up to 4 decimals (number or string)",
                examples=[1.5],
            ),
        ]
        | Annotated[str, Meta(pattern=QUANTITY, description="> 0, at most 1e9", examples=["2.25"])]
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
                description="VAT rate, percent, 0 to 100, up to 2 decimals (number or string)",
                examples=[20],
            ),
        ]
        | Annotated[str, Meta(pattern=TAX_RATE, description="0 to 100", examples=["5.5"])]
    )


class InvoiceLineRequest(CreditLineRequest, kw_only=True, forbid_unknown_fields=True):
    """An invoice's line, which may state its own VAT category (else decided from the facts)."""

    vat_category: VatCategoryStated | None = _UNSET
    vat_exemption_reason: ExemptionReasonStated | None = _UNSET


Lines = Annotated[
    Annotated[list[InvoiceLineRequest], Meta(min_length=1, max_length=500)],
    described("The lines, 1 to 500, in order"),
]


class InvoiceCreateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new invoice for a live client. It is numbered at once and starts as a draft."""

    client_id: Annotated[UUID, described("The client invoiced (not archived)", EXAMPLE_CLIENT_ID)]
    currency: Annotated[Currency, described("ISO 4217 currency of every amount", "EUR")]
    due_date: (
        Annotated[date, described("Default: issue date + payment_terms_days", "2026-12-24")] | None
    ) = _UNSET
    notes: Notes = _UNSET
    lines: Lines
    operation_category: OperationCategoryField | None = _UNSET
    delivery_address: DeliveryAddress | None = _UNSET
    tax_exchange_rate: TaxExchangeRate | None = _UNSET


class InvoiceUpdateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A draft's edit, merged: omitted fields keep their value, `lines` replaces them all,
    `notes: null` clears, `due_date: null` takes the creation default."""

    client_id: Annotated[
        UUID, described("The client invoiced (not archived)", EXAMPLE_CLIENT_ID)
    ] = _UNSET
    currency: Annotated[Currency, described("ISO 4217 currency of every amount", "EUR")] = _UNSET
    due_date: (
        Annotated[date, described("Null: issue date + payment_terms_days", "2026-12-24")] | None
    ) = _UNSET
    notes: Notes = _UNSET
    lines: Annotated[
        Annotated[list[InvoiceLineRequest], Meta(min_length=1, max_length=500)],
        described("The new lines, 1 to 500, replacing all of them"),
    ] = _UNSET
    operation_category: OperationCategoryField | None = _UNSET
    delivery_address: DeliveryAddress | None = _UNSET
    tax_exchange_rate: TaxExchangeRate | None = _UNSET


class PaymentRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Money received for the invoice (a part or all of its amount due)."""

    amount_cents: Annotated[
        int,
        Meta(ge=1, le=10**15, description="At most the amount due, minor units", examples=[40000]),
    ]
    method: PaymentMethod
    paid_at: (
        Annotated[
            datetime, described("When it was paid (RFC 3339); default: now", "2026-11-30T09:00:00Z")
        ]
        | None
    ) = _UNSET
    reference: PaymentReference = _UNSET


class CancelRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Why the invoice is cancelled (optional; the body may be left out)."""

    reason: (
        Annotated[
            Annotated[str, Meta(max_length=1000, pattern=NON_BLANK_TEXT)],
            described("Why it is cancelled (kept in the `cancelled` event)", "Issued twice"),
        ]
        | None
    ) = _UNSET


Channel = Literal["email", "sms", "link"]


class SendRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How to send: one delivery per channel."""

    channels: Annotated[
        list[Channel],
        Meta(
            min_length=1,
            max_length=3,
            examples=[["email", "link"]],
            description="The channels, unique: email (PDF attached), sms, link",
        ),
    ]
    reminder: Annotated[
        bool,
        Meta(
            description="A reminder of a sent invoice (records `reminder_sent`)", examples=[False]
        ),
    ] = False


# -- credit notes (the response struct is readmodels/credit_note_view.py) -----------------------


class CreditNoteCreateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What to credit on an issued invoice: some lines, or (no `lines`) all not yet credited."""

    reason: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=1000,
            pattern=NON_BLANK_TEXT,
            examples=["Returned goods"],
            description="Why it is issued (printed)",
        ),
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
    """Money given back to the client against the credit note's refund due."""

    amount_cents: Annotated[
        int,
        Meta(ge=1, le=10**15, description="At most the refund due, minor units", examples=[50000]),
    ]
    method: PaymentMethod
    reference: PaymentReference = _UNSET
