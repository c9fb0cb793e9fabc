"""The credit note as the read side serves it (API.md "Credit notes").

Shared by the API, the documents (PDF, Factur-X type 381) and the public page, like
`invoice_view.InvoiceResponse`. Amounts are positive: they are what is credited.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

import msgspec

from fastfaktura.readmodels.invoice_view import (
    Buyer,
    Currency,
    InvoiceLineResponse,
    Seller,
    TaxBreakdownItem,
)
from fastfaktura.readmodels.wire_types import (
    ClientId,
    CreatedAt,
    InvoiceId,
    IssueDate,
    described,
)


class CreditNoteResponse(msgspec.Struct, kw_only=True):
    """A credit note (EN 16931 type 381): what it credits on an invoice, and its refund due."""

    id: Annotated[UUID, described("The credit note's id", "c0ffee00-1234-4abc-8def-0123456789ab")]
    number: Annotated[
        str,
        described(
            "{credit_note_prefix}{YYYY}-{NNNNN}, gapless per business and year", "A2026-00001"
        ),
    ]
    invoice_id: InvoiceId
    invoice_number: Annotated[str, described("The credited invoice's number", "F2026-00001")]
    # The credited invoice's issue date (BT-26 on the documents); not part of the API answer.
    invoice_issue_date: Annotated[
        date | msgspec.UnsetType,
        described(
            "The credited invoice's issue date (on the documents; left out here)", "2026-11-24"
        ),
    ] = msgspec.UNSET
    client_id: ClientId
    currency: Annotated[Currency, described("The invoice's currency", "EUR")]
    issue_date: IssueDate
    reason: Annotated[str, described("Why it was issued (printed)", "Returned goods")]
    lines: Annotated[list[InvoiceLineResponse], described("The credited lines (positive amounts)")]
    tax_breakdown: Annotated[list[TaxBreakdownItem], described("The VAT credited per rate")]
    subtotal_cents: Annotated[int, described("Credited before VAT, minor units", 50000)]
    tax_cents: Annotated[int, described("VAT credited, minor units", 10000)]
    total_cents: Annotated[int, described("Credited with VAT, minor units", 60000)]
    refund_due_cents: Annotated[
        int,
        described(
            "Money still to give back to the client (paid beyond what is now due), minor units", 0
        ),
    ]
    seller: Seller
    buyer: Buyer
    public_url: Annotated[
        str,
        described(
            "The client's page of the credit note (no key needed; unguessable token)",
            "https://app.fastfaktura.io/c/Zr8dK2pQ0vW5xY7aB9cD1eF3gH4jK6mN",
        ),
    ]
    created_at: CreatedAt
