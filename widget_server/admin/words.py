"""How the admin writes times and statuses (issue #24 item 5): moments in the merchant's time
zone and locale (a Berlin merchant reads "29.11.2026, 21:30", not "2026-11-29 20:30 UTC"), and
statuses in words ("Overdue", "Succeeded"), never the stored lower-case value."""
from zoneinfo import ZoneInfo

from babel.dates import format_time
from flask import g

from . import bp
from .access import current_merchant
from .orders import admin_date

INVOICE_WORDS = {"draft": "Draft", "open": "Open", "overdue": "Overdue", "paid": "Paid",
                 "void": "Void"}
PAYMENT_WORDS = {"scheduled": "Scheduled", "pending": "Pending", "succeeded": "Succeeded",
                 "failed": "Failed", "cancelled": "Cancelled"}


def _today():
    if "admin_today" not in g:
        g.admin_today = current_merchant().today()
    return g.admin_today


def invoice_state(status: str, due_date, balance_minor: int, today) -> str:
    """An invoice's status as the merchant reads it: an issued one is "open", or "overdue"
    once its due date has passed with money still owed."""
    if status == "issued":
        return "overdue" if due_date and due_date < today and balance_minor > 0 else "open"
    return status


def invoice_words(status: str, due_date=None, balance_minor: int = 0, today=None) -> str:
    state = invoice_state(status, due_date, balance_minor, today or _today())
    return INVOICE_WORDS.get(state, state.capitalize())


@bp.app_template_global("admin_invoice_status")
def admin_invoice_status(invoice) -> str:
    return invoice_words(invoice.status, invoice.due_date, invoice.balance_minor)


@bp.app_template_global("admin_payment_status")
def admin_payment_status(payment_or_status) -> str:
    status = getattr(payment_or_status, "status", payment_or_status)
    return PAYMENT_WORDS.get(status, str(status).capitalize())


@bp.app_template_filter("admin_status")
def admin_status(status: str) -> str:
    """Any other stored status in words: "open" → "Open", "in_progress" → "In progress"."""
    return str(status or "").replace("_", " ").capitalize()


@bp.app_template_filter("admin_day")
def admin_day(moment) -> str:
    """The merchant's calendar day of a stored (UTC) moment, in the merchant's date format."""
    return admin_date(current_merchant().local_date(moment)) if moment else "—"


@bp.app_template_filter("admin_datetime")
def admin_datetime(moment) -> str:
    """A stored (UTC) moment in the merchant's time zone: "29.11.2026 21:30" (de_DE)."""
    if moment is None:
        return "—"
    merchant = current_merchant()
    local = moment.astimezone(ZoneInfo(merchant.timezone))
    return f"{admin_date(local.date())} {format_time(local, 'short', locale=merchant.locale)}"
