"""Scheduled payments of a customer's invoices (W-3, P-2): one invoice has at most one; a date
the customer picks replaces the invoice's autopay, and cancelling it brings the autopay back;
an invoice paid meanwhile cancels whatever was still scheduled for it, so nothing is charged
twice on the day."""
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from ..core.extensions import db
from ..core.i18n import gettext as _
from ..jobs.queue import enqueue
from .models import Invoice, Payment
from .reasons import INVOICE_PAID, N_

REPLACED = N_("Replaced by the payment you scheduled.")
SCHEDULED_JOB = "payments.scheduled"  # the worker's job that charges a scheduled payment


def start_of(merchant, day: date) -> datetime:
    """The first moment of `day` in the merchant's time zone: a payment for the 3rd runs on the
    merchant's 3rd."""
    return datetime.combine(day, time(0, 5), ZoneInfo(merchant.timezone))


def scheduled(merchant, customer) -> list[Payment]:
    """The customer's scheduled payments (a handful), soonest first."""
    return list(db.session.scalars(select(Payment).where(
        Payment.merchant_id == merchant.id, Payment.customer_id == customer.id,
        Payment.status == "scheduled").order_by(Payment.scheduled_for, Payment.id)))


def by_invoice(merchant, customer, *, own_only: bool = True) -> dict[int, Payment]:
    """Invoice id -> the scheduled payment that will pay it (the customer's own dates only,
    unless `own_only` is off: then autopay too)."""
    found = {}
    for payment in scheduled(merchant, customer):
        if own_only and payment.source == "autopay":
            continue
        for invoice_id in (payment.plan or {}).get("invoice_ids", []):
            found.setdefault(invoice_id, payment)
    return found


def cancel_for_paid(merchant, customer, paid_ids: list[int]) -> int:
    """The invoices are paid: every scheduled payment whose invoices are all paid now has
    nothing left to do and is cancelled (autopay and the customer's own dates alike)."""
    paid, cancelled = set(paid_ids), 0
    for payment in scheduled(merchant, customer):
        planned = set((payment.plan or {}).get("invoice_ids", []))
        if planned and planned <= paid:
            payment.status, payment.method_token = "cancelled", ""
            payment.failure_message = INVOICE_PAID
            cancelled += 1
    db.session.flush()
    return cancelled


def cancel(merchant, customer, payment_id: int) -> str | None:
    """Cancel one of the customer's own scheduled payments; what the customer is told, or None
    when it is not theirs or no longer scheduled. The autopay it replaced comes back."""
    done = db.session.execute(
        update(Payment).where(Payment.id == payment_id, Payment.merchant_id == merchant.id,
                              Payment.customer_id == customer.id,
                              Payment.status == "scheduled")
        .values(status="cancelled", method_token="", failure_message=N_("Cancelled by you."))
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        return None
    payment = db.session.get(Payment, payment_id)
    db.session.refresh(payment)
    if (payment.plan or {}).get("replaced_autopay") and _restore_autopay(merchant, customer,
                                                                          payment):
        return _("The scheduled payment was cancelled. Autopay pays the invoice on its due "
                 "date again.")
    return _("The scheduled payment was cancelled.")


def _restore_autopay(merchant, customer, payment: Payment) -> int:
    """Schedule again the autopay payments this one replaced, for invoices still open, while
    the customer's autopay is on."""
    if not customer.autopay:
        return 0
    ids = (payment.plan or {}).get("invoice_ids", [])
    replaced = db.session.scalars(select(Payment).where(
        Payment.merchant_id == merchant.id, Payment.customer_id == customer.id,
        Payment.source == "autopay", Payment.status == "cancelled",
        Payment.failure_message == REPLACED,
        Payment.idempotency_key.in_([f"autopay-invoice-{i}" for i in ids]))).all()
    restored = 0
    for autopay in replaced:
        invoice = db.session.get(Invoice, autopay.plan["invoice_ids"][0])
        if invoice is None or invoice.status != "issued" or invoice.balance_minor <= 0:
            continue
        autopay.status, autopay.failure_message = "scheduled", ""
        enqueue(SCHEDULED_JOB, {"payment_id": autopay.id}, merchant_id=merchant.id,
                run_at=start_of(merchant, invoice.due_date))
        restored += 1
    db.session.flush()
    return restored
