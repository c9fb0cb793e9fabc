"""Invoice arithmetic, exactly as API.md states it. Pure: Decimal inside, integer cents out.

    line.net_cents  = round(quantity * unit_price_cents)
    subtotal_cents  = sum(net_cents)
    tax_cents(rate) = round(sum(net_cents at that rate) * rate / 100)   (per distinct rate)
    tax_cents       = sum over rates;  total_cents = subtotal_cents + tax_cents

`round` is half away from zero, to the cent (ROUND_HALF_UP in Decimal is away from zero).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_price_cents: int
    tax_rate: Decimal


@dataclass(frozen=True)
class TaxLine:
    """One row of the VAT breakdown (EN 16931 BG-23): the rate, its base and its tax."""

    rate: Decimal
    base_cents: int
    tax_cents: int


@dataclass(frozen=True)
class Totals:
    net_cents: tuple[int, ...]
    subtotal_cents: int
    tax_cents: int
    total_cents: int
    tax_breakdown: tuple[TaxLine, ...]


def canonical(value: Decimal) -> Decimal:
    """The shortest plain form: 20.00 -> 20, 5.50 -> 5.5 (never 2E+1), -0.0 -> 0."""
    if value.is_zero():
        return Decimal(0)
    normalized = value.normalize()
    exponent = normalized.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        return normalized.quantize(Decimal(1))
    return normalized


def round_cents(value: Decimal) -> int:
    """Half away from zero to a whole number of cents: 0.5 -> 1, -0.5 -> -1, 2.49 -> 2."""
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def compute_totals(lines: Sequence[LineInput]) -> Totals:
    # Quantities have at most 4 decimals and prices are bounded, so 50 digits never round.
    with localcontext() as context:
        context.prec = 50
        nets = tuple(round_cents(line.quantity * line.unit_price_cents) for line in lines)
        bases: dict[Decimal, int] = {}
        for line, net in zip(lines, nets, strict=True):
            rate = canonical(line.tax_rate)
            bases[rate] = bases.get(rate, 0) + net
        breakdown = tuple(
            TaxLine(rate=rate, base_cents=base, tax_cents=round_cents(base * rate / 100))
            for rate, base in sorted(bases.items(), key=lambda item: item[0], reverse=True)
        )
    subtotal = sum(nets)
    tax = sum(item.tax_cents for item in breakdown)
    return Totals(nets, subtotal, tax, subtotal + tax, breakdown)
