"""How a draft invoice is decided: its lines priced, its dates checked, its parties frozen.

Kept apart from the Invoice aggregate (domain/invoice.py, where `Invoice.draft` is this) so
that the aggregate's module stays about its lifecycle.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from fastfaktura.domain.invoice_terms import terms_record
from fastfaktura.domain.pricing import InvoiceLine, priced_content
from fastfaktura.domain.vat_categories import categorized

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
    terms: dict[str, Any] | None = None,
) -> T:
    """Decide: price the lines, give them their VAT categories and check the dates, then
    record `created`, all frozen. `terms`: invoice_terms.py's fields, the payment reference
    among them. Raises RulesBroken with every rule broken."""
    return cls(  # type: ignore[call-arg]
        business_id=business_id,
        client_id=client_id,
        number=number,
        currency=currency,
        issue_date=issue_date.isoformat(),
        due_date=due_date.isoformat(),
        notes=notes,
        **drafted_content(lines, issue_date, due_date, seller, buyer),
        public_token=public_token,
        seller=seller,
        buyer=buyer,
        terms=terms_record(terms or {}),
    )


def drafted_content(
    lines: list[InvoiceLine],
    issue_date: date,
    due_date: date,
    seller: dict[str, Any],
    buyer: dict[str, Any],
) -> dict[str, Any]:
    """What `created` and `changed` record of the lines: pricing.py's content, each line and
    each breakdown row with its VAT category (vat_categories.py)."""
    content = priced_content(lines, issue_date, due_date)
    content["lines"], content["tax_breakdown"] = categorized(
        content["lines"], content["tax_breakdown"], seller, buyer
    )
    return content
