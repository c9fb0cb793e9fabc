"""An invoice's lines priced: the totals and the rules on them (count, size, sign)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from fastfaktura.domain.errors import (
    DueDateBeforeIssueDate,
    InvoiceAmountTooLarge,
    LineAmountTooLarge,
    LineCountOutOfRange,
    NegativeTotal,
    RuleBroken,
    RulesBroken,
)
from fastfaktura.domain.money import LineInput, Totals, canonical, compute_totals

MAX_LINES: Final = 500
# Every amount (line net, VAT base and tax, subtotal, total) stays within +/- this many cents:
# far inside a PostgreSQL bigint (the read models) and a JSON number's exact integers (2**53).
MAX_AMOUNT_CENTS: Final = 10**15


@dataclass(frozen=True)
class InvoiceLine:
    description: str
    quantity: Decimal
    unit_price_cents: int
    tax_rate: Decimal
    # The line's own VAT category (BT-151) and exemption reason, when the business states them
    # (domain/vat_categories.py decides the others).
    vat_category: str | None = None
    vat_exemption_reason: str | None = None


def priced(lines: list[InvoiceLine]) -> tuple[Totals | None, list[RuleBroken]]:
    """The totals, and every rule the lines break (all of them, for one answer)."""
    if not 1 <= len(lines) <= MAX_LINES:
        return None, [LineCountOutOfRange(len(lines), MAX_LINES)]
    totals = compute_totals(
        [LineInput(ln.quantity, ln.unit_price_cents, ln.tax_rate) for ln in lines]
    )
    broken: list[RuleBroken] = [
        LineAmountTooLarge(index, MAX_AMOUNT_CENTS)
        for index, net in enumerate(totals.net_cents)
        if abs(net) > MAX_AMOUNT_CENTS
    ]
    amounts = [totals.subtotal_cents, totals.tax_cents, totals.total_cents]
    amounts += [a for item in totals.tax_breakdown for a in (item.base_cents, item.tax_cents)]
    if not broken and any(abs(amount) > MAX_AMOUNT_CENTS for amount in amounts):
        broken.append(InvoiceAmountTooLarge(MAX_AMOUNT_CENTS))
    if totals.total_cents < 0:
        # Credit notes are another document.
        broken.append(NegativeTotal())
    return totals, broken


def price(lines: list[InvoiceLine]) -> Totals:
    """Totals of the lines; raises RulesBroken with every rule they break."""
    totals, broken = priced(lines)
    if broken or totals is None:
        raise RulesBroken(broken)
    return totals


def line_records(lines: list[InvoiceLine], totals: Totals) -> list[dict[str, Any]]:
    """The lines as the `created` event stores them (canonical decimals, net per line)."""
    return [
        {
            "description": line.description,
            "quantity": canonical(line.quantity),
            "unit_price_cents": line.unit_price_cents,
            "tax_rate": canonical(line.tax_rate),
            "net_cents": net,
            **stated_category(line),
        }
        for line, net in zip(lines, totals.net_cents, strict=True)
    ]


def stated_category(line: InvoiceLine) -> dict[str, Any]:
    """What the line itself states of its VAT category (nothing: the facts decide)."""
    stated: dict[str, Any] = {}
    if line.vat_category is not None:
        stated["stated_vat_category"] = line.vat_category
    if line.vat_exemption_reason is not None:
        stated["stated_vat_exemption_reason"] = line.vat_exemption_reason
    return stated


def breakdown_records(totals: Totals) -> list[dict[str, Any]]:
    return [
        {"rate": item.rate, "base_cents": item.base_cents, "tax_cents": item.tax_cents}
        for item in totals.tax_breakdown
    ]


def date_rules(issue_date: date, due_date: date | None) -> list[RuleBroken]:
    """The due date is never before the issue date."""
    return [DueDateBeforeIssueDate()] if due_date is not None and due_date < issue_date else []


def priced_content(lines: list[InvoiceLine], issue_date: date, due_date: date) -> dict[str, Any]:
    """What an invoice's `created` and `changed` events record of its lines: the lines with
    their nets, the totals and the VAT breakdown. Raises RulesBroken with every rule the
    lines and the dates break."""
    totals, broken = priced(lines)
    broken += date_rules(issue_date, due_date)
    if broken or totals is None:
        raise RulesBroken(broken)
    return {
        "lines": line_records(lines, totals),
        "subtotal_cents": totals.subtotal_cents,
        "tax_cents": totals.tax_cents,
        "total_cents": totals.total_cents,
        "tax_breakdown": breakdown_records(totals),
    }
