"""A client as the read side serves it, built from an `rm_clients` row (or the same row
computed from the aggregate right after a write)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from fastfaktura.readmodels.invoice_view import Locale


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
