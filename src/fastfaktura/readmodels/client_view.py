"""A client as the read side serves it, built from an `rm_clients` row (or the same row
computed from the aggregate right after a write)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from fastfaktura.readmodels.invoice_view import Locale
from fastfaktura.readmodels.wire_types import (
    ClientId,
    CompanyId,
    CreatedAt,
    PartyAddress,
    PartyCountry,
    PartyEmail,
    PartyName,
    PartyPhone,
    UpdatedAt,
    VatNumber,
    described,
)


class ClientResponse(msgspec.Struct, kw_only=True):
    """A client of the business: who its invoices are addressed to."""

    id: ClientId
    name: PartyName
    email: PartyEmail
    phone: PartyPhone
    address: PartyAddress
    country: PartyCountry
    locale: Annotated[Locale, described("The language of the client's documents", "fr")]
    external_id: Annotated[
        str | None, described("Your own reference for it, unique among live clients", "CRM-1001")
    ]
    tags: Annotated[list[str], described("Free labels, for your searches", ["vip"])]
    vat_number: VatNumber
    company_id: CompanyId
    archived_at: Annotated[datetime | None, described("When it was archived (null: live)", None)]
    created_at: CreatedAt
    updated_at: UpdatedAt

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ClientResponse:
        return msgspec.convert(row, cls, strict=False)
