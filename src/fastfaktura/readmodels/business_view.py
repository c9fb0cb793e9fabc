"""The business profile as the read side serves it, built from an `rm_business` row (or the
same row computed from the aggregate right after a write). The API answers with it; the
delivery worker and the public page read the sender's details and the mode from it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from fastfaktura.readmodels.invoice_view import Currency, Locale, OperationCategory, exact_number


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
    credit_note_prefix: str = "A"
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
