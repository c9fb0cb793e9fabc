"""The arithmetic of crediting an invoice (API.md "Credit notes"), pure.

Credit notes never exceed what is left to credit; what was paid beyond what is left to pay is
owed back to the client (a credit note's `refund_due_cents`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from fastfaktura.domain.errors import CreditAboveCreditable
from fastfaktura.domain.money import TaxLine, canonical


def rate_key(rate: Any) -> str:
    """A VAT rate as the key it is credited under: 20, 20.0 and "20.00" are one rate."""
    return str(canonical(Decimal(str(rate))))


def credited_rates(
    credited: Mapping[str, list[int]], tax_breakdown: Iterable[Mapping[str, Any]]
) -> dict[str, list[int]]:
    """`credited` ({rate: [base, tax]}) plus one credit note's VAT breakdown."""
    result = {rate: list(amounts) for rate, amounts in credited.items()}
    for item in tax_breakdown:
        base, tax = result.setdefault(rate_key(item["rate"]), [0, 0])
        result[rate_key(item["rate"])] = [base + item["base_cents"], tax + item["tax_cents"]]
    return result


def remaining_by_rate(
    tax_breakdown: Iterable[Mapping[str, Any]], credited: Mapping[str, list[int]]
) -> list[TaxLine]:
    """Per VAT rate of the invoice, the base and tax no credit note has credited yet (rates
    with nothing left are left out). Their sum is exactly what is left to credit, as each
    credit note's total is the sum of its breakdown."""
    # The invoice's rows by rate: a rate may hold several VAT categories (two 0 % rows, AE
    # and E: domain/vat_categories.py), credited together as the rate's.
    by_rate: dict[str, list[Any]] = {}
    for item in tax_breakdown:
        row = by_rate.setdefault(rate_key(item["rate"]), [item["rate"], 0, 0])
        row[1] += item["base_cents"]
        row[2] += item["tax_cents"]
    remaining = []
    for key, (rate, invoiced_base, invoiced_tax) in by_rate.items():
        base, tax = credited.get(key, [0, 0])
        left = TaxLine(
            canonical(Decimal(str(rate))),
            invoiced_base - base,
            invoiced_tax - tax,
        )
        if left.base_cents or left.tax_cents:
            remaining.append(left)
    return remaining


def status_after_credit(status: str, total_cents: int, paid_cents: int, credited_cents: int) -> str:
    """The lifecycle table's `credited` row: `cancelled` when fully credited before any
    payment, `paid` when credits and payments cover the total, else unchanged."""
    if credited_cents >= total_cents and paid_cents == 0:
        return "cancelled"
    if paid_cents + credited_cents >= total_cents:
        return "paid"
    return status


def refund_due(total_cents: int, paid_cents: int, credited_before: int, amount_cents: int) -> int:
    """What this credit note owes back: the part of the payments it leaves uncovered by what
    is still to pay (earlier credit notes owe their own part)."""
    before = max(0, paid_cents + credited_before - total_cents)
    after = max(0, paid_cents + credited_before + amount_cents - total_cents)
    return after - before


def check_credit_amount(amount_cents: int, creditable_cents: int) -> None:
    """A credit note credits something, and at most what earlier ones left."""
    if not 0 < amount_cents <= creditable_cents:
        raise CreditAboveCreditable(amount_cents, creditable_cents)


def check_annulment(
    issued: bool, credit_note_id: Any, credited_cents: int, creditable_cents: int
) -> None:
    """An issued invoice is cancelled by a credit note of all that was left, which annuls it."""
    if issued and (credit_note_id is None or credited_cents != creditable_cents):
        raise ValueError("an issued invoice is cancelled by a credit note of what is left")
