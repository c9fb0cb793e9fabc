"""The business profile as the read side serves it, built from an `rm_business` row (or the
same row computed from the aggregate right after a write). The API answers with it; the
delivery worker and the public page read the sender's details and the mode from it."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from fastfaktura.readmodels.invoice_view import Currency, Locale, OperationCategory, exact_number
from fastfaktura.readmodels.wire_types import (
    Bic,
    CompanyId,
    CreatedAt,
    Iban,
    LegalName,
    PartyAddress,
    PartyCountry,
    PartyEmail,
    PartyName,
    PartyPhone,
    UpdatedAt,
    VatNumber,
    described,
)


class BusinessLogo(msgspec.Struct, kw_only=True):
    """The business's current logo, as stored after re-encoding (`PUT /business/logo`'s
    answer; the image itself is `GET /business/logo`)."""

    sha256: Annotated[
        str,
        msgspec.Meta(
            description="SHA-256 of the stored (re-encoded) image, lowercase hex",
            examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
        ),
    ]
    content_type: Annotated[
        Literal["image/png", "image/jpeg"],
        msgspec.Meta(description="The stored image's type", examples=["image/png"]),
    ]
    width: Annotated[int, msgspec.Meta(description="Width in pixels", examples=[400])]
    height: Annotated[int, msgspec.Meta(description="Height in pixels", examples=[120])]


def logo_from_row(row: dict[str, Any]) -> BusinessLogo | None:
    """rm_business's logo columns (migration 0026) as the logo, or None when there is none."""
    if row.get("logo_sha256") is None:
        return None
    return BusinessLogo(
        sha256=row["logo_sha256"],
        content_type=row["logo_content_type"],
        width=row["logo_width"],
        height=row["logo_height"],
    )


class BusinessBranding(msgspec.Struct, kw_only=True):
    """What a business's documents need of its profile: its mode and current logo."""

    mode: str
    logo: BusinessLogo | None


class BusinessResponse(msgspec.Struct, kw_only=True):
    """The business profile: its legal details (frozen into each new invoice) and settings."""

    id: Annotated[UUID, described("The business's id", "1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6")]
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
    currency: Annotated[Currency, described("Default currency of new invoices", "EUR")]
    locale: Annotated[Locale, described("Default language of new clients' documents", "fr")]
    payment_terms_days: Annotated[
        int, described("Days from issue to the default due date, 0 to 365", 30)
    ]
    invoice_prefix: Annotated[
        str, described("Invoices' numbers: {invoice_prefix}{YYYY}-{NNNNN}", "F")
    ]
    vat_exempt_293b: Annotated[
        bool, described("France: VAT franchise, art. 293 B du CGI (printed on invoices)", False)
    ]
    late_payment_rate: Annotated[
        int | float | None,
        described("France: contractual late-payment rate, percent (printed)", 10),
    ]
    f_skatt: Annotated[bool, described("Sweden: approved for F-tax (Godkänd för F-skatt)", False)]
    credit_note_prefix: Annotated[
        str, described("Credit notes' numbers: {credit_note_prefix}{YYYY}-{NNNNN}", "A")
    ] = "A"
    vat_on_debits: Annotated[
        bool,
        Meta(
            description="France: VAT is due on debits (invoicing) rather than on receipts",
            examples=[False],
        ),
    ] = False
    operation_category: Annotated[
        OperationCategory,
        Meta(description="Default operation category of new invoices", examples=["services"]),
    ] = "services"
    mode: Annotated[
        Literal["sandbox", "live"],
        described(
            "sandbox: nothing is delivered outside the machine; Stripe in test mode", "sandbox"
        ),
    ]
    created_at: CreatedAt
    updated_at: UpdatedAt

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
