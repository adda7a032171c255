"""The account overview a customer sees first (W-1): balance, status, next due, recent activity.

A fixed number of queries whatever the history's size: one aggregate (balance, overdue, next
due date and what is due then), two short lists.
"""
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    String,
    bindparam,
    case,
    func,
    literal_column,
    select,
    true,
    union_all,
)

from ..core.extensions import db
from ..core.i18n import gettext as _
from ..core.reads import Read, null_of
from .models import Invoice, Payment
from .payment_history import method_words  # an offline method in the customer's words


@dataclass(frozen=True)
class Activity:
    when: datetime | date
    kind: str  # "invoice" | "payment"
    label: str
    amount_minor: int
    currency: str
    status: str
    item_id: int = 0  # the invoice's or payment's id: the overview links each row (#20)
    has_receipt: bool = False


@dataclass(frozen=True)
class AccountSummary:
    balance_minor: int
    overdue_minor: int
    open_invoices: int
    next_due_date: date | None
    next_due_minor: int
    currency: str
    recent: list[Activity]

    @property
    def status(self) -> str:
        if self.overdue_minor > 0:
            return "overdue"
        return "open" if self.balance_minor > 0 else "settled"


def _statement():
    """The overview's one statement, built once with bound parameters: the open invoices'
    totals (one row), outer-joined to the recent invoices and payments (a union of at most
    `invoice_limit` and `payment_limit` rows). Each round trip cost the page as much again on
    PostgreSQL as the statement's own work there: three became one (#26)."""
    merchant, customer, today = bindparam("merchant"), bindparam("customer"), bindparam("today")
    open_filter = (Invoice.merchant_id == merchant, Invoice.customer_id == customer,
                   Invoice.status == "issued", Invoice.balance_minor > 0)
    overdue = case((Invoice.due_date < today, Invoice.balance_minor), else_=0)
    next_due = (select(func.min(Invoice.due_date))
                .where(*open_filter, Invoice.due_date >= today).scalar_subquery())
    due_then = case((Invoice.due_date == next_due, Invoice.balance_minor), else_=0)
    totals = select(func.coalesce(func.sum(Invoice.balance_minor), 0).label("balance"),
                    func.coalesce(func.sum(overdue), 0).label("overdue"),
                    func.count(Invoice.id).label("open_count"), next_due.label("next_due"),
                    func.coalesce(func.sum(due_then), 0).label("next_due_minor"),
                    ).where(*open_filter).subquery()

    # one shape for both kinds; the invoices' columns give the types (and the converters)
    invoices = (select(literal_column("'invoice'", String).label("kind"),
                       Invoice.id.label("item_id"), Invoice.number.label("number"),
                       Invoice.issue_date.label("day"), Invoice.created_at.label("created_at"),
                       Invoice.total_minor.label("total_minor"),  # a payment's amount
                       Invoice.balance_minor.label("balance_minor"),
                       Invoice.currency.label("currency"), Invoice.status.label("status"),
                       Invoice.due_date.label("due_date"), null_of(String).label("source"),
                       null_of(String).label("method"), null_of(String).label("method_label"),
                       literal_column("0", Integer).label("numbered"))
                .where(Invoice.merchant_id == merchant, Invoice.customer_id == customer,
                       Invoice.status != "draft")
                .order_by(Invoice.id.desc()).limit(bindparam("invoice_limit")).subquery())
    payments = (select(*(column.label(name) for column, name in zip((
                       literal_column("'payment'", String), Payment.id, null_of(String),
                       Payment.scheduled_for, Payment.created_at, Payment.amount_minor,
                       null_of(BigInteger), Payment.currency, Payment.status, null_of(Date),
                       Payment.source, Payment.method, Payment.method_label,
                       case((Payment.number.is_not(None), 1), else_=0)),
                       invoices.columns.keys(), strict=True)))
                .where(Payment.merchant_id == merchant, Payment.customer_id == customer)
                .order_by(Payment.id.desc()).limit(bindparam("payment_limit")).subquery())
    recent = union_all(select(invoices), select(payments)).subquery()
    return select(totals, recent).select_from(totals.outerjoin(recent, true()))


OVERVIEW = Read(_statement())


def summary(merchant, customer, today: date, recent_limit: int = 5, *,
            show_payments: bool = True, show_invoices: bool = True) -> AccountSummary:
    """`show_payments` / `show_invoices` off (the profile's switches): the recent activity
    leaves those rows out, as the pages they would lead to are closed."""
    rows = OVERVIEW.all(merchant=merchant.id, customer=customer.id, today=today,
                        invoice_limit=recent_limit if show_invoices else 0,
                        payment_limit=recent_limit if show_payments else 0)
    totals = rows[0]  # an aggregate: one row, however many recent items are joined to it
    # newest first within each kind, invoices before payments: equal days keep that order
    invoices = sorted((r for r in rows if r.kind == "invoice"), key=lambda r: -r.item_id)
    payments = sorted((r for r in rows if r.kind == "payment"), key=lambda r: -r.item_id)
    # the rows' words, translated once for the list (each lookup of the request's catalogue
    # outside a page's rendering costs a few proxies)
    invoice_words, payment_with, payment_words = (
        _("Invoice %(number)s"), _("Payment · %(method)s"), _("Payment"))
    recent = [Activity(i.day or merchant.local_date(i.created_at), "invoice",
                       invoice_words % {"number": i.number}, i.total_minor, i.currency,
                       invoice_status(i, today), i.item_id) for i in invoices]
    recent += [Activity(p.day if p.status == "scheduled" else merchant.local_date(p.created_at),
                        "payment", payment_with % {"method": method} if (
                            method := method_words(p)) else payment_words,
                        p.total_minor, p.currency, p.status, p.item_id,
                        p.status == "succeeded" and bool(p.numbered)) for p in payments]
    recent.sort(key=lambda a: a.when, reverse=True)
    # PostgreSQL's SUM is numeric (Decimal): amounts are integer minor units everywhere else
    return AccountSummary(int(totals.balance), int(totals.overdue), totals.open_count,
                          totals.next_due, int(totals.next_due_minor), merchant.currency,
                          recent[:recent_limit])


def has_money_records(merchant) -> bool:
    """Whether any invoice or payment of the merchant exists (its currency is then fixed)."""
    return any(db.session.scalar(select(model.id).where(model.merchant_id == merchant.id)
                                 .limit(1)) is not None for model in (Invoice, Payment))


def invoice_status(invoice: Invoice, today: date) -> str:
    """What the customer reads of an invoice today: overdue, partly paid, due, paid…"""
    if invoice.status == "issued" and invoice.due_date and invoice.due_date < today:
        return "overdue"
    if invoice.status == "issued" and invoice.balance_minor < invoice.total_minor:
        return "partly paid"
    return {"issued": "due"}.get(invoice.status, invoice.status)
