"""Tax on priced lines (issue #21 item 2): one rounding rule, per line, in minor units.

A merchant prices either with tax included (EU consumer prices: the price is the gross) or
without (the price is the net). A line's amount is its unit price times its quantity; its tax is
then, at a rate in basis points (1900 = 19 %):

- prices without tax: ``tax = round(net × rate / 10000)``, ``gross = net + tax``;
- prices with tax:    ``net = round(gross × 10000 / (10000 + rate))``, ``tax = gross − net``.

``round`` is half away from zero on exact integers (no floats), applied once per line; an
invoice's tax per rate and its totals are plain sums of its lines, so the page, the PDF and the
charge always agree to the cent. Credits (negative lines, a proration) round symmetrically.
"""
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

MAX_RATE_BP = 10000  # 100 %: a higher rate is surely a typing error


class LineAmounts(NamedTuple):
    net_minor: int
    tax_minor: int
    gross_minor: int


def round_half_away(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, exactly (denominator > 0)."""
    sign = -1 if numerator < 0 else 1
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return sign * quotient


def line_amounts(amount_minor: int, rate_bp: int, prices_include_tax: bool) -> LineAmounts:
    """Net, tax and gross of a line whose priced amount (unit price × quantity) is given."""
    if not 0 <= rate_bp <= MAX_RATE_BP:
        raise ValueError("tax rate out of range")
    if prices_include_tax:
        net = round_half_away(amount_minor * 10000, 10000 + rate_bp)
        return LineAmounts(net, amount_minor - net, amount_minor)
    tax = round_half_away(amount_minor * rate_bp, 10000)
    return LineAmounts(amount_minor, tax, amount_minor + tax)


class RateTotal(NamedTuple):
    rate_bp: int
    net_minor: int
    tax_minor: int


def per_rate(lines: Iterable) -> list[RateTotal]:
    """Net and tax per rate, lowest rate first: what an invoice prints under its lines."""
    totals: dict[int, list[int]] = {}
    for line in lines:
        entry = totals.setdefault(line.tax_rate_bp, [0, 0])
        entry[0] += line.net_minor
        entry[1] += line.tax_minor
    return [RateTotal(rate, net, tax) for rate, (net, tax) in sorted(totals.items())]


def format_rate(rate_bp: int) -> str:
    """1900 → "19", 700 → "7", 550 → "5.5" (the caller adds the % sign in its language)."""
    whole, part = divmod(rate_bp, 100)
    return str(whole) if not part else f"{whole}.{part:02d}".rstrip("0")


class TaxSummary(NamedTuple):
    net_minor: int
    rates: list[RateTotal]
    gross_minor: int


def summary(lines) -> TaxSummary | None:
    """What an invoice prints under its lines when any line carries tax: the net, the tax per
    rate and the gross; None when none does (the invoice then shows its total alone)."""
    lines = list(lines)
    if not any(line.tax_rate_bp or line.tax_minor for line in lines):
        return None
    return TaxSummary(sum(line.net_minor for line in lines), per_rate(lines),
                      sum(line.amount_minor for line in lines))


@lru_cache(maxsize=1024)
def format_rate_in(rate_bp: int, locale: str) -> str:
    """The rate's number in a locale: 1900 → "19", 550 → "5,5" in German. (Remembered: a
    merchant has a handful of rates, and Babel takes 50 us to write one.)"""
    from decimal import Decimal

    from babel.numbers import format_decimal

    return format_decimal(Decimal(rate_bp) / 100, format="#,##0.##", locale=locale)
