"""The business profile as the read side serves it, built from an `rm_business` row (or the
same row computed from the aggregate right after a write). The API answers with it; the
delivery worker and the public page read the sender's details and the mode from it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from fastfaktura.readmodels.invoice_view import Currency, Locale, exact_number


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
