"""Money as integer minor units that always carry their currency; formatting through Babel.

Floats never hold money: amounts are `int` minor units (cents) plus an ISO 4217 code, converted
from user input with `Decimal` and rounded half-up where division happens.
"""
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
    """`1234567, 'EUR', 'de_DE'` → '12.345,67 €'."""
    return format_currency(from_minor(minor, currency), currency, locale=_locale(locale))


@lru_cache(maxsize=64)
def _locale(name: str) -> Locale:
    """Parsed once per process: a page formats dozens of amounts in one locale."""
    return Locale.parse(name)
