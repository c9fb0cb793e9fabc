"""Invoice arithmetic (API.md, Invoices): exact decimals, half away from zero, VAT per rate.

Every expected figure below was worked out by hand; the property test re-computes the same
rules independently with fractions.Fraction.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastfaktura.api.domain_errors import field_errors
from fastfaktura.domain.errors import RulesBroken
from fastfaktura.domain.money import LineInput, TaxLine, canonical, compute_totals, round_cents
from fastfaktura.domain.pricing import MAX_AMOUNT_CENTS, MAX_LINES, InvoiceLine, price

D = Decimal


def line(quantity: str, unit_price_cents: int, tax_rate: str) -> LineInput:
    return LineInput(D(quantity), unit_price_cents, D(tax_rate))


# (quantity, unit price, rate) -> (net, tax, total), one line each.
SINGLE_LINES = [
    pytest.param("1", 10000, "20", 10000, 2000, 12000, id="20%"),
    # 5997 * 5.5 / 100 = 329.835 -> 330
    pytest.param("3", 1999, "5.5", 5997, 330, 6327, id="5.5%"),
    # 12345 * 2.1 / 100 = 259.245 -> 259
    pytest.param("1", 12345, "2.1", 12345, 259, 12604, id="2.1%"),
    # 10000 * 9.975 / 100 = 997.5 exactly -> 998 (half away from zero, not to even)
    pytest.param("1", 10000, "9.975", 10000, 998, 10998, id="9.975%-exact-half"),
    # 10002 * 9.975 / 100 = 997.6995 -> 998
    pytest.param("1", 10002, "9.975", 10002, 998, 11000, id="9.975%"),
    pytest.param("7", 333, "0", 2331, 0, 2331, id="0%"),
    # 3.3333 * 1999 = 6663.2667 -> 6663; 6663 * 20 / 100 = 1332.6 -> 1333
    pytest.param("3.3333", 1999, "20", 6663, 1333, 7996, id="4-decimal-quantity"),
    # 2.5 * 3999 = 9997.5 -> 9998; 9998 * 9.975 / 100 = 997.3005 -> 997
    pytest.param("2.5", 3999, "9.975", 9998, 997, 10995, id="half-cent-net"),
    # 0.0001 * 4999 = 0.4999 -> 0; 0.0001 * 5000 = 0.5 -> 1
    pytest.param("0.0001", 4999, "20", 0, 0, 0, id="below-half"),
    pytest.param("0.0001", 5000, "20", 1, 0, 1, id="exact-half-up"),
    # 0.5 * 1 = 0.5 -> 1 and 0.5 * -1 = -0.5 -> -1; banker's rounding would give 0 and 0
    pytest.param("0.5", 1, "0", 1, 0, 1, id="half-positive"),
    pytest.param("0.5", -1, "0", -1, 0, -1, id="half-negative"),
    # 2.5 -> 3 (to even: 2); -4.5 -> -5 (to even: -4)
    pytest.param("2.5", 1, "0", 3, 0, 3, id="2.5-away-from-zero"),
    pytest.param("1.5", -3, "0", -5, 0, -5, id="minus-4.5-away-from-zero"),
    # A discount line alone: -2500 * 10 / 100 = -250; -25 * 10 / 100 = -2.5 -> -3
    pytest.param("1", -2500, "10", -2500, -250, -2750, id="discount"),
    pytest.param("1", -25, "10", -25, -3, -28, id="discount-half-tax"),
    # 1 * 1 at 50% = 0.5 -> 1
    pytest.param("1", 1, "50", 1, 1, 2, id="tax-half-cent"),
    pytest.param("1", 99999, "100", 99999, 99999, 199998, id="100%"),
]


@pytest.mark.parametrize(("quantity", "unit", "rate", "net", "tax", "total"), SINGLE_LINES)
def test_single_line(quantity: str, unit: int, rate: str, net: int, tax: int, total: int) -> None:
    totals = compute_totals([line(quantity, unit, rate)])
    assert totals.net_cents == (net,)
    assert totals.subtotal_cents == net
    assert totals.tax_cents == tax
    assert totals.total_cents == total
    assert totals.tax_breakdown == (TaxLine(rate=D(rate), base_cents=net, tax_cents=tax),)


@pytest.mark.parametrize(
    ("value", "cents"),
    [
        ("0.5", 1),
        ("-0.5", -1),
        ("1.5", 2),
        ("2.5", 3),
        ("-2.5", -3),
        ("2.49", 2),
        ("-2.49", -2),
        ("2.51", 3),
        ("0.49999999", 0),
        ("-0.50000001", -1),
        ("0", 0),
        ("123456789012.5", 123456789013),
    ],
)
def test_round_cents_is_half_away_from_zero(value: str, cents: int) -> None:
    assert round_cents(D(value)) == cents


def test_mixed_invoice_with_a_discount_and_several_rates() -> None:
    totals = compute_totals(
        [
            line("2", 15000, "20"),  # 30000
            line("1", -5000, "20"),  # -5000 (discount at 20 %)
            line("3.3333", 1999, "5.5"),  # 6663.2667 -> 6663
            line("1", 2500, "0"),  # 2500
        ]
    )
    assert totals.net_cents == (30000, -5000, 6663, 2500)
    assert totals.subtotal_cents == 34163
    # 20 %: base 25000 -> 5000; 5.5 %: 6663 * 0.055 = 366.465 -> 366; 0 %: 0
    assert totals.tax_breakdown == (
        TaxLine(D("20"), 25000, 5000),
        TaxLine(D("5.5"), 6663, 366),
        TaxLine(D("0"), 2500, 0),
    )
    assert totals.tax_cents == 5366
    assert totals.total_cents == 39529


def test_vat_is_rounded_once_per_rate_on_the_summed_base_not_per_line() -> None:
    # Three lines of 333 at 20 %: per line 66.6 -> 67, three times 201. Per rate: the base is
    # 999, and 999 * 20 / 100 = 199.8 -> 200. API.md (and EN 16931) want the per-rate figure.
    totals = compute_totals([line("1", 333, "20")] * 3)
    assert totals.tax_breakdown == (TaxLine(D("20"), 999, 200),)
    assert totals.tax_cents == 200
    assert totals.total_cents == 1199
    per_line = sum(round_cents(D(333) * D(20) / 100) for _ in range(3))
    assert per_line == 201  # the wrong way differs by a cent

    # Two half cents at 10 %: per line 0.5 -> 1 each (2); per rate 10 * 10 % = 1.
    halves = compute_totals([line("1", 5, "10"), line("1", 5, "10")])
    assert halves.tax_cents == 1
    assert halves.tax_breakdown == (TaxLine(D("10"), 10, 1),)


def test_breakdown_has_one_row_per_distinct_rate_highest_first() -> None:
    totals = compute_totals(
        [
            line("1", 1000, "5.5"),
            line("1", 2000, "20"),
            line("1", 3000, "20.00"),  # the same rate as 20, written differently
            line("1", 4000, "0"),
            line("1", 500, "5.50"),
            line("1", 700, "9.975"),
        ]
    )
    assert totals.tax_breakdown == (
        TaxLine(D("20"), 5000, 1000),
        TaxLine(D("9.975"), 700, 70),  # 69.825 -> 70
        TaxLine(D("5.5"), 1500, 83),  # 82.5 -> 83
        TaxLine(D("0"), 4000, 0),
    )
    # Rates come out in their shortest plain form: never 2E+1 or 5.50.
    assert [str(item.rate) for item in totals.tax_breakdown] == ["20", "9.975", "5.5", "0"]
    assert totals.subtotal_cents == 11200
    assert totals.tax_cents == 1153
    assert totals.total_cents == 12353


def test_negative_base_per_rate_rounds_away_from_zero() -> None:
    # 1000 at 20 % and a discount of 25 at 10 %: 10 % base is -25 -> tax -2.5 -> -3.
    totals = compute_totals([line("1", 1000, "20"), line("1", -25, "10")])
    assert totals.tax_breakdown == (TaxLine(D("20"), 1000, 200), TaxLine(D("10"), -25, -3))
    assert (totals.subtotal_cents, totals.tax_cents, totals.total_cents) == (975, 197, 1172)


def test_large_amounts_stay_exact() -> None:
    # 999,999,999.9999 * 10^12 would lose cents in a double; Decimal keeps all of them.
    totals = compute_totals([line("999999999.9999", 10**12, "19.99")])
    net = 999_999_999_999_900_000_000
    assert totals.net_cents == (net,)
    # net * 19.99 / 100 = 199,899,999,999,980,010,000 exactly
    assert totals.tax_cents == 199_899_999_999_980_010_000
    assert totals.total_cents == net + 199_899_999_999_980_010_000


# -- an independent re-computation, for random lines ----------------------------------------


def _half_away(value: Fraction) -> int:
    magnitude = abs(value)
    whole = int(magnitude)  # floor, as magnitude >= 0
    if magnitude - whole >= Fraction(1, 2):
        whole += 1
    return whole if value >= 0 else -whole


def _expected(lines: list[LineInput]) -> tuple[list[int], dict[Fraction, tuple[int, int]]]:
    nets = [_half_away(Fraction(ln.quantity) * ln.unit_price_cents) for ln in lines]
    bases: dict[Fraction, int] = {}
    for ln, net in zip(lines, nets, strict=True):
        bases[Fraction(ln.tax_rate)] = bases.get(Fraction(ln.tax_rate), 0) + net
    return nets, {
        rate: (base, _half_away(Fraction(base) * rate / 100)) for rate, base in bases.items()
    }


def _decimal(places: int, low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n).scaleb(-places))


_LINES = st.lists(
    st.builds(
        LineInput,
        quantity=_decimal(4, 1, 10**9),  # 0.0001 .. 100000
        unit_price_cents=st.integers(-(10**9), 10**9),
        # A few rates, so lines share them; and any 3-decimal rate 0..100.
        tax_rate=st.one_of(
            st.sampled_from([D("20"), D("20.00"), D("5.5"), D("2.1"), D("9.975"), D("0")]),
            _decimal(3, 0, 100_000),
        ),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(_LINES)
def test_compute_totals_matches_an_independent_fraction_computation(
    lines: list[LineInput],
) -> None:
    nets, per_rate = _expected(lines)
    totals = compute_totals(lines)
    assert list(totals.net_cents) == nets
    assert totals.subtotal_cents == sum(nets)
    breakdown = {
        Fraction(item.rate): (item.base_cents, item.tax_cents) for item in totals.tax_breakdown
    }
    assert breakdown == per_rate
    assert len(totals.tax_breakdown) == len(per_rate)  # one row per distinct rate
    rates = [Fraction(item.rate) for item in totals.tax_breakdown]
    assert rates == sorted(rates, reverse=True)
    assert totals.tax_cents == sum(tax for _, tax in per_rate.values())
    assert totals.total_cents == totals.subtotal_cents + totals.tax_cents
    assert all(isinstance(n, int) for n in totals.net_cents)


# -- invoice.price: the rules on top of the arithmetic ----------------------------------------


def invoice_line(quantity: str, unit_price_cents: int, tax_rate: str = "20") -> InvoiceLine:
    return InvoiceLine("Work", D(quantity), unit_price_cents, D(tax_rate))


def test_price_refuses_a_negative_total_naming_lines() -> None:
    with pytest.raises(RulesBroken) as caught:
        price([invoice_line("1", 1000, "0"), invoice_line("1", -1001, "0")])
    assert [e.field for e in field_errors(caught.value.rules)] == ["lines"]


def test_price_accepts_a_zero_total_and_a_discounted_positive_total() -> None:
    assert price([invoice_line("1", 1000, "0"), invoice_line("1", -1000, "0")]).total_cents == 0
    discounted = price([invoice_line("2", 1000), invoice_line("1", -500)])
    assert (discounted.subtotal_cents, discounted.tax_cents, discounted.total_cents) == (
        1500,
        300,
        1800,
    )


@pytest.mark.parametrize("count", [0, MAX_LINES + 1])
def test_price_refuses_no_lines_and_more_than_500(count: int) -> None:
    with pytest.raises(RulesBroken) as caught:
        price([invoice_line("1", 100)] * count)
    assert [e.field for e in field_errors(caught.value.rules)] == ["lines"]


def test_price_accepts_exactly_500_lines() -> None:
    assert MAX_LINES == 500
    totals = price([invoice_line("1", 100)] * 500)
    assert (totals.subtotal_cents, totals.tax_cents, totals.total_cents) == (50000, 10000, 60000)


def test_price_bounds_every_amount_to_keep_it_storable() -> None:
    # 10**15 cents: inside a PostgreSQL bigint and a JSON number's exact integers (2**53).
    assert MAX_AMOUNT_CENTS == 10**15
    assert MAX_AMOUNT_CENTS < 2**53 < 2**63
    at_limit = price([invoice_line("1000", 10**12, "0")])
    assert at_limit.total_cents == 10**15

    def refused(lines: list[InvoiceLine]) -> list[str]:
        with pytest.raises(RulesBroken) as caught:
            price(lines)
        return [e.field for e in field_errors(caught.value.rules)]

    # The largest quantity times the largest price the API accepts: 10**21 cents.
    assert refused([invoice_line("1000000000", 10**12)]) == ["lines[0]"]
    assert refused([invoice_line("1", 100), invoice_line("1000.0001", -(10**12))]) == [
        "lines[1]",
        "lines",  # and negative
    ]
    assert refused([invoice_line("1000", 10**12, "20")]) == ["lines"]  # the tax tips it over
    assert refused([invoice_line("600", 10**12, "0")] * 2) == ["lines"]  # the sum does


@pytest.mark.parametrize(
    ("written", "plain"),
    [
        ("20.00", "20"),
        ("5.50", "5.5"),
        ("2E+1", "20"),
        ("100", "100"),
        ("-0.0", "0"),
        ("0E-2", "0"),
    ],
)
def test_rates_are_kept_in_their_shortest_plain_form(written: str, plain: str) -> None:
    assert str(canonical(D(written))) == plain
    (item,) = compute_totals([line("1", 100, written)]).tax_breakdown
    assert str(item.rate) == plain
