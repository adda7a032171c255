"""Billing periods (issue #21): where the period after a given one starts.

Monthly and yearly periods keep the order's anchor day, clamped to the month's end: an order
started on 31 January is billed on 28 (or 29) February, 31 March, 30 April, 31 May… — the
anchor is never lost to a short month. Daily and weekly periods simply add days.
"""
import calendar
from datetime import date, timedelta

from ..catalogue.models import INTERVALS
from ..core.i18n import gettext, ngettext


def advance(start: date, interval: str, count: int, anchor_day: int) -> date:
    """The start of the period after the one starting on `start`."""
    if interval not in INTERVALS or count < 1:
        raise ValueError(f"bad billing period: every {count} {interval}")
    if interval == "day":
        return start + timedelta(days=count)
    if interval == "week":
        return start + timedelta(weeks=count)
    months = count * (12 if interval == "year" else 1)
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def period_days(start: date, end: date) -> int:
    return (end - start).days


def retreat(start: date, interval: str, count: int, anchor_day: int) -> date:
    """The start of the period before the one starting on `start` (`advance` backwards, with
    the same month-end clamp: advance(retreat(d)) == d for a period start d)."""
    if interval not in INTERVALS or count < 1:
        raise ValueError(f"bad billing period: every {count} {interval}")
    if interval == "day":
        return start - timedelta(days=count)
    if interval == "week":
        return start - timedelta(weeks=count)
    months = count * (12 if interval == "year" else 1)
    index = start.year * 12 + (start.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def in_words(interval: str | None, count: int = 1) -> str:
    """How often, in the current language: "every month", "every 3 months", "once" (the widget
    and the customer's emails)."""
    count = count or 1
    if interval == "day":
        return ngettext("every day", "every %(num)d days", count)
    if interval == "week":
        return ngettext("every week", "every %(num)d weeks", count)
    if interval == "month":
        return ngettext("every month", "every %(num)d months", count)
    if interval == "year":
        return ngettext("every year", "every %(num)d years", count)
    return gettext("once")
