"""The business profile as the read side serves it, built from an `rm_business` row (or the
same row computed from the aggregate right after a write). The API answers with it; the
delivery worker and the public page read the sender's details and the mode from it."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from fastfaktura.readmodels.invoice_view import Currency, Locale, exact_number
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
