"""Wire types (msgspec). Responses are built from read-model rows or, right after a write,
from the same rows computed from the aggregate, so both are always identical."""

from __future__ import annotations

from datetime import datetime
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
    mode: Literal["sandbox", "live"]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> BusinessResponse:
        return msgspec.convert(
            {**row, "id": row["business_id"]}, cls, from_attributes=False, strict=False
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
