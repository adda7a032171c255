"""The account overview a customer sees first (W-1): balance, status, next due, recent activity.

A fixed number of queries whatever the history's size: one aggregate (balance, overdue, next
due date and what is due then), two short lists.
"""
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, case, func, select

from ..core.extensions import db
from ..core.i18n import gettext as _
from ..core.reads import Read
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


def _statements():
    """The overview's three statements, built once with bound parameters: composing SQL
    expressions costs more Python than running them (measured with `make bench`)."""
    merchant, customer, today = bindparam("merchant"), bindparam("customer"), bindparam("today")
    open_filter = (Invoice.merchant_id == merchant, Invoice.customer_id == customer,
                   Invoice.status == "issued", Invoice.balance_minor > 0)
    overdue = case((Invoice.due_date < today, Invoice.balance_minor), else_=0)
    next_due = (select(func.min(Invoice.due_date))
                .where(*open_filter, Invoice.due_date >= today).scalar_subquery())
    due_then = case((Invoice.due_date == next_due, Invoice.balance_minor), else_=0)
    totals = select(func.coalesce(func.sum(Invoice.balance_minor), 0),
                    func.coalesce(func.sum(overdue), 0), func.count(Invoice.id), next_due,
                    func.coalesce(func.sum(due_then), 0)).where(*open_filter)
    # columns, not entities: the rows are only read (entities cost the ORM's identity map)
    invoices = (select(Invoice.id, Invoice.number, Invoice.issue_date, Invoice.created_at,
                       Invoice.total_minor, Invoice.balance_minor, Invoice.currency,
                       Invoice.status, Invoice.due_date)
                .where(Invoice.merchant_id == merchant, Invoice.customer_id == customer,
                       Invoice.status != "draft")
                .order_by(Invoice.id.desc()).limit(bindparam("limit")))
    payments = (select(Payment.id, Payment.status, Payment.scheduled_for, Payment.created_at,
                       Payment.source, Payment.method, Payment.method_label,
                       Payment.amount_minor, Payment.currency, Payment.number)
                .where(Payment.merchant_id == merchant, Payment.customer_id == customer)
                .order_by(Payment.id.desc()).limit(bindparam("limit")))
    return totals, invoices, payments


TOTALS, RECENT_INVOICES, RECENT_PAYMENTS = (Read(statement) for statement in _statements())


def summary(merchant, customer, today: date, recent_limit: int = 5, *,
            show_payments: bool = True, show_invoices: bool = True) -> AccountSummary:
    """`show_payments` / `show_invoices` off (the profile's switches): the recent activity
    leaves those rows out, as the pages they would lead to are closed."""
    params = {"merchant": merchant.id, "customer": customer.id, "today": today,
              "limit": recent_limit}
    balance, overdue_total, count, next_due_date, next_due_minor = TOTALS.one(**params)
    invoices = RECENT_INVOICES.all(**params) if show_invoices else []
    payments = RECENT_PAYMENTS.all(**params) if show_payments else []
    recent = [Activity(i.issue_date or merchant.local_date(i.created_at), "invoice",
                       _("Invoice %(number)s", number=i.number), i.total_minor, i.currency,
                       invoice_status(i, today), i.id) for i in invoices]
    recent += [Activity(p.scheduled_for if p.status == "scheduled"
                        else merchant.local_date(p.created_at),
                        "payment", _("Payment · %(method)s", method=method_words(p))
                        if method_words(p) else _("Payment"),
                        p.amount_minor, p.currency, p.status, p.id,
                        p.status == "succeeded" and p.number is not None) for p in payments]
    recent.sort(key=lambda a: a.when, reverse=True)
    # PostgreSQL's SUM is numeric (Decimal): amounts are integer minor units everywhere else
    return AccountSummary(int(balance), int(overdue_total), count, next_due_date,
                          int(next_due_minor), merchant.currency, recent[:recent_limit])


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
