"""Dates as a merchant's customers type and read them (issue #20): the merchant locale's short
date pattern (de_DE dd.MM.yy), with the year in full and day and month in two digits so a typed
date is never ambiguous. ISO (YYYY-MM-DD) is always understood too: scripts, old pages and the
browser's own date picker send it."""
import re
from datetime import date
from functools import lru_cache

from babel.dates import format_date, get_date_format

ISO = "yyyy-MM-dd"
_ISO_TEXT = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_TOKEN = re.compile(r"'(?:[^']|'')*'|([A-Za-z])\1*|[^A-Za-z']+")


@lru_cache(maxsize=256)
def input_pattern(locale: str) -> tuple[str, tuple[str, ...]]:
    """The pattern to show and read dates in, and the order of its fields ('d', 'M', 'y').
    A short pattern with anything but day, month and year (an era, a weekday) falls back to
    ISO."""
    try:
        short = get_date_format("short", locale=locale).pattern
    except (ValueError, LookupError, TypeError):
        return ISO, ("y", "M", "d")
    parts, order = [], []
    for match in _TOKEN.finditer(short):
        text, letter = match.group(0), match.group(1)
        if letter is None:
            parts.append(text)
        elif letter in "dMy" and letter not in order:
            order.append(letter)
            parts.append({"d": "dd", "M": "MM", "y": "yyyy"}[letter])
        else:
            return ISO, ("y", "M", "d")
    if len(order) != 3:
        return ISO, ("y", "M", "d")
    return "".join(parts), tuple(order)


# The letters a reader of each language writes a date pattern with (Tag/Monat/Jahr,
# jour/mois/année): "TT.MM.JJJJ" to a German reader, "JJ/MM/AAAA" to a French one.
HINT_LETTERS = {"de": ("TT", "MM", "JJJJ"), "fr": ("JJ", "MM", "AAAA")}
DEFAULT_LETTERS = ("DD", "MM", "YYYY")


def format_hint(locale: str, language: str | None = None) -> str:
    """The locale's pattern as a reader of `language` (by default the locale's) writes it:
    DD.MM.YYYY, TT.MM.JJJJ."""
    pattern, _ = input_pattern(locale)
    shown = pattern.replace("''", "\0").replace("'", "").replace("\0", "'")
    language = language or locale.replace("-", "_").split("_")[0]
    day, month, year = HINT_LETTERS.get(language.lower(), DEFAULT_LETTERS)
    return shown.replace("dd", day).replace("MM", month).replace("yyyy", year)


def format_input(day: date, locale: str) -> str:
    return format_date(day, format=input_pattern(locale)[0], locale=locale)


def parse_input(text: str, locale: str) -> date:
    """A date typed in the merchant's pattern (a two-digit year is this century's), or ISO.
    Raises ValueError."""
    text = text.strip()
    if _ISO_TEXT.fullmatch(text):
        year, month, day = (int(n) for n in text.split("-"))
        return date(year, month, day)
    numbers = re.findall(r"\d+", text)
    if len(numbers) != 3 or any(len(n) > 4 for n in numbers):
        raise ValueError(text)
    fields = dict(zip(input_pattern(locale)[1], (int(n) for n in numbers), strict=True))
    year_text = numbers[input_pattern(locale)[1].index("y")]
    if len(year_text) <= 2:
        fields["y"] += 2000
    elif len(year_text) != 4:
        raise ValueError(text)
    return date(fields["y"], fields["M"], fields["d"])
