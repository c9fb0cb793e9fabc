"""How a draft invoice is decided: its lines priced, its dates checked, its parties frozen.

Kept apart from the Invoice aggregate (domain/invoice.py, where `Invoice.draft` is this) so
that the aggregate's module stays about its lifecycle.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from fastfaktura.domain.pricing import InvoiceLine, priced_content

T = TypeVar("T")


def draft_invoice(
    cls: type[T],
    *,
    business_id: UUID,
    client_id: UUID,
    number: str,
    currency: str,
    issue_date: date,
    due_date: date,
    notes: str | None,
    lines: list[InvoiceLine],
    public_token: str,
    seller: dict[str, Any],
    buyer: dict[str, Any],
) -> T:
    """Decide: price the lines and check the dates, then record `created`, all frozen.
    Raises RulesBroken with every rule broken."""
    return cls(  # type: ignore[call-arg]
        business_id=business_id,
        client_id=client_id,
        number=number,
        currency=currency,
        issue_date=issue_date.isoformat(),
        due_date=due_date.isoformat(),
        notes=notes,
        **priced_content(lines, issue_date, due_date),
        public_token=public_token,
        seller=seller,
        buyer=buyer,
    )
