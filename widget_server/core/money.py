"""Money as integer minor units that always carry their currency; formatting through Babel.

Floats never hold money: amounts are `int` minor units (cents) plus an ISO 4217 code, converted
from user input with `Decimal` and rounded half-up where division happens.
"""
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency, get_currency_precision


def exponent(currency: str) -> int:
    return get_currency_precision(currency)


def to_minor(amount: Decimal | str | int, currency: str) -> int:
    """A decimal amount ('12.345') in minor units, rounded half-up to the currency's precision."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise ValueError(f"“{amount}” is not an amount.") from exc
    if not value.is_finite() or abs(value.adjusted()) > 30:  # "9e999999" would overflow
        raise ValueError(f"“{amount}” is not an amount.")
    scaled = value.scaleb(exponent(currency)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def format_money(minor: int, currency: str, locale: str) -> str:
    """`1234567, 'EUR', 'de_DE'` → '12.345,67 €', exactly as Babel writes it."""
    fast = _formatter(currency, locale)
    return fast(int(minor)) if fast else _babel(minor, currency, locale)


def _babel(minor: int, currency: str, locale: str) -> str:
    return format_currency(from_minor(minor, currency), currency, locale=_locale(locale))


@lru_cache(maxsize=64)
def _locale(name: str) -> Locale:
    """Parsed once per process: a page formats dozens of amounts in one locale."""
    return Locale.parse(name)


_PROBE = re.compile(r"(?P<pre>.*?)1(?P<sep>\D?)234(?P=sep)567(?:(?P<dec>\D)(?P<frac>\d+))?"
                    r"(?P<post>.*)", re.S)


@lru_cache(maxsize=256)
def _formatter(currency: str, locale: str) -> Callable[[int], str] | None:
    """A formatter that writes what Babel writes for this currency and locale, about ten times
    faster: Babel applies its number pattern anew for every amount, and an invoice list has
    dozens. It is read off Babel's own output for a probe amount and used only if it agrees
    with Babel on a set of checks; otherwise (grouping other than by threes, say) Babel it is."""
    digits = exponent(currency)
    probe = int("1234567" + "890"[:digits])
    shapes = [_PROBE.fullmatch(_babel(sign * probe, currency, locale)) for sign in (1, -1)]
    if not all(shapes) or any(bool(m["dec"]) != bool(digits) for m in shapes):
        return None
    (plus, minus), sep = shapes, shapes[0]["sep"]
    if minus["sep"] != sep or minus["dec"] != plus["dec"]:
        return None
    scale = 10 ** digits
    # the shapes' parts as plain strings, the fraction's format made once (a list formats
    # forty amounts: #26)
    pre_plus, post_plus, pre_minus, post_minus = (plus["pre"], plus["post"], minus["pre"],
                                                  minus["post"])
    decimal, fraction_spec = plus["dec"] or "", f"0{digits}d"

    def fast(minor: int) -> str:
        whole, fraction = divmod(abs(minor), scale)
        number = f"{whole:,}"
        if sep != ",":
            number = number.replace(",", sep)
        if digits:
            number += decimal + format(fraction, fraction_spec)
        if minor < 0:
            return pre_minus + number + post_minus
        return pre_plus + number + post_plus

    checks = (0, 5, 99, 1234, 12345, 123456, 5 * scale, 10 ** 9, 10 ** 13 + 7, -1, -12345,
              -10 ** 9)
    if any(fast(m) != _babel(m, currency, locale) for m in checks):
        return None
    return fast


def pattern(currency: str, locale: str) -> dict | None:
    """How `format_money` writes positive amounts of this currency and locale, for a page's
    script to write the same (the Pay button's total, #20): prefix, group and decimal
    separators, digits, suffix. None where the fast formatter does not apply (grouping other
    than by threes): the page then relies on its server-rendered total."""
    if _formatter(currency, locale) is None:
        return None
    digits = exponent(currency)
    shape = _PROBE.fullmatch(_babel(int("1234567" + "890"[:digits]), currency, locale))
    return {"pre": shape["pre"], "group": shape["sep"], "decimal": shape["dec"] or "",
            "digits": digits, "post": shape["post"]}
