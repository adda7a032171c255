"""The receivables figures of the admin's dashboard (issue #24 item 1): what is owed and how late,
what came in, what recurs, what failed. Each figure is one aggregate statement (GROUP BY, SUM,
COUNT over an index), never rows loaded into Python, so the dashboard costs the same at a
thousand invoices and at a million (`bench/dashboard.py` measures both).

Days are the merchant's: "overdue" and "collected on" follow the merchant's calendar. Payments
are grouped by their local day with the merchant's UTC offset of today (a day that crosses a
daylight-saving change is off by that hour at its edge, which a daily chart does not show).
"""
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Interval, and_, case, cast, func, literal, select

from ..commerce.models import ACTIVE, CANCELLED, ENDED, Order
from ..core.extensions import db
from ..customers.models import PortalSession
from ..notifications.models import EmailMessage
from .models import Invoice, Payment

# days past due: (label, first day, last day or None for no end)
AGEING = (("1–30 days", 1, 30), ("31–60 days", 31, 60), ("61–90 days", 61, 90),
          ("Over 90 days", 91, None))
COLLECTED = ("succeeded",)
MONTHS_PER = {"day": 12 / 365, "week": 12 / 52, "month": 1, "year": 12}  # periods to a month


@dataclass(frozen=True)
class Bucket:
    label: str
    amount_minor: int
    count: int


@dataclass(frozen=True)
class Receivables:
    outstanding_minor: int
    outstanding_count: int
    current_minor: int  # outstanding, not yet due
    overdue_minor: int
    overdue_count: int
    ageing: tuple[Bucket, ...]


def receivables(merchant, today: date) -> Receivables:
    """What customers owe on issued invoices, by how many days past due. One GROUP BY of the
    merchant's open invoices by due date, read in due-date order from the covering index
    `ix_invoice_merchant_status_due` (no sort, no table rows), so the rows that come back are
    as many as the distinct due dates, never the invoices; the buckets are summed here."""
    rows = db.session.execute(
        select(Invoice.due_date, func.sum(Invoice.balance_minor), func.count())
        .where(Invoice.merchant_id == merchant.id, Invoice.status == "issued",
               Invoice.balance_minor > 0)
        .group_by(Invoice.due_date)).all()
    current = [0, 0]
    late = {label: [0, 0] for label, _, _ in AGEING}
    for due, amount, count in rows:
        days = (today - due).days if due is not None else 0
        target = current if days <= 0 else next(
            late[label] for label, first, last in AGEING
            if days >= first and (last is None or days <= last))
        target[0] += int(amount or 0)
        target[1] += int(count)
    ageing = tuple(Bucket(label, *late[label]) for label, _, _ in AGEING)
    overdue = sum(b.amount_minor for b in ageing)
    overdue_count = sum(b.count for b in ageing)
    return Receivables(current[0] + overdue, current[1] + overdue_count, current[0], overdue,
                       overdue_count, ageing)


def _offset_minutes(merchant) -> int:
    offset = datetime.now(ZoneInfo(merchant.timezone)).utcoffset() or timedelta()
    return int(offset.total_seconds() // 60)


def _local_day(column, minutes: int):
    """The merchant's calendar day of a stored UTC timestamp, as SQL on either database."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.date(column, f"{minutes:+d} minutes")
    return cast(column + literal(timedelta(minutes=minutes), Interval()), Date)


def _utc_start(merchant, day: date) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(merchant.timezone)).astimezone(UTC)


def collections(merchant, first: date, last: date) -> list[tuple[date, int]]:
    """Money collected on each of the merchant's days from `first` to `last` (every day, zero
    where nothing came in): succeeded payments by the day they were made (an offline one: the
    day it was received)."""
    minutes = _offset_minutes(merchant)
    # an offline payment counts on the day the money arrived, which the admin typed; it was
    # recorded then or later, so the index's lower bound on `created_at` still holds
    day = func.coalesce(Payment.received_on, _local_day(Payment.created_at, minutes))
    rows = db.session.execute(
        select(day.label("day"), func.sum(Payment.amount_minor))
        .where(Payment.merchant_id == merchant.id, Payment.status.in_(COLLECTED),
               Payment.created_at >= _utc_start(merchant, first), day <= last)
        .group_by(day)).all()
    by_day = {(d if isinstance(d, date) else date.fromisoformat(str(d))): int(total)
              for d, total in rows}
    span = (last - first).days + 1
    return [(first + timedelta(days=i), by_day.get(first + timedelta(days=i), 0))
            for i in range(span)]


def _month_ends(today: date, months: int) -> list[date]:
    """The last day of each of the `months` months up to this one (this one: today)."""
    ends, year, month = [], today.year, today.month
    for _ in range(months):
        first_of_next = date(year + (month == 12), month % 12 + 1, 1)
        ends.append(min(first_of_next - timedelta(days=1), today))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(ends))


def recurring_revenue(merchant, today: date, months: int = 12) -> list[tuple[date, int]]:
    """Monthly recurring revenue at the end of each of the last `months` months: every
    recurring order running on that day, its period's price brought to a month (a yearly
    €120 counts €10). One statement: a SUM per month, grouped by billing period."""
    ends = _month_ends(today, months)
    running = [func.coalesce(func.sum(case(
        (and_(Order.start_date <= end,
              (Order.end_date.is_(None)) | (Order.end_date > end)), Order.total_minor),
        else_=0)), 0) for end in ends]
    rows = db.session.execute(
        select(Order.interval, Order.interval_count, *running)
        .where(Order.merchant_id == merchant.id, Order.interval.is_not(None),
               Order.status.in_((ACTIVE, ENDED, CANCELLED)))
        .group_by(Order.interval, Order.interval_count)).all()
    totals = [0.0] * len(ends)
    for interval, count, *sums in rows:
        factor = 1 / (MONTHS_PER.get(interval, 1) * max(count, 1))
        for i, amount in enumerate(sums):
            totals[i] += int(amount) * factor
    return [(end, round(total)) for end, total in zip(ends, totals, strict=True)]


@dataclass(frozen=True)
class Activity:
    failed_payments: int
    recent_failures: list  # (Payment, Customer), newest first
    emails: dict  # status -> count, today
    sign_ins: int


def activity(merchant, today: date, *, days: int = 30, failures_shown: int = 5) -> Activity:
    """Failed payments of the last `days` to look at, today's email delivery, and portal
    sign-ins of the last `days`: one COUNT or GROUP BY each, and the few newest failures."""
    from ..customers.models import Customer

    since = _utc_start(merchant, today - timedelta(days=days - 1))
    failed = (Payment.merchant_id == merchant.id, Payment.status == "failed",
              Payment.created_at >= since)
    count = db.session.scalar(select(func.count()).select_from(Payment).where(*failed))
    recent = db.session.execute(
        select(Payment, Customer).join(Customer, Customer.id == Payment.customer_id)
        .where(*failed).order_by(Payment.created_at.desc(), Payment.id.desc())
        .limit(failures_shown)).all()
    emails = dict(db.session.execute(
        select(EmailMessage.status, func.count())
        .where(EmailMessage.merchant_id == merchant.id,
               EmailMessage.created_at >= _utc_start(merchant, today))
        .group_by(EmailMessage.status)).all())
    sign_ins = db.session.scalar(
        select(func.count()).select_from(PortalSession)
        .where(PortalSession.merchant_id == merchant.id, PortalSession.created_at >= since))
    return Activity(int(count or 0), [tuple(r) for r in recent],
                    {k: int(v) for k, v in emails.items()}, int(sign_ins or 0))
