"""The credit note as the read side serves it (API.md "Credit notes").

Shared by the API, the documents (PDF, Factur-X type 381) and the public page, like
`invoice_view.InvoiceResponse`. Amounts are positive: they are what is credited.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec

from fastfaktura.readmodels.invoice_view import (
    Buyer,
    Currency,
    InvoiceLineResponse,
    Seller,
    TaxBreakdownItem,
)


class CreditNoteResponse(msgspec.Struct, kw_only=True):
    id: UUID
    number: str
    invoice_id: UUID
    invoice_number: str
    # The credited invoice's issue date (BT-26 on the documents); not part of the API answer.
    invoice_issue_date: date | msgspec.UnsetType = msgspec.UNSET
    client_id: UUID
    currency: Currency
    issue_date: date
    reason: str
    lines: list[InvoiceLineResponse]
    tax_breakdown: list[TaxBreakdownItem]
    subtotal_cents: int
    tax_cents: int
    total_cents: int
    refund_due_cents: int
    seller: Seller
    buyer: Buyer
    public_url: str
    created_at: datetime
