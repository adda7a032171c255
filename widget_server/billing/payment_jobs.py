"""The worker's side of payments: scheduled payments run on their date, pending ones are
resolved, and autopay schedules each new invoice for its due date.

Safe even when the queue's lease heartbeat cannot renew (a worker cut off from the database for
a whole lease, whose job another worker takes over): a payment is taken from `scheduled` to
`pending` by one conditional UPDATE, so a second worker running the same job finds nothing to
do, and the gateway's idempotency key makes a repeated charge of a pending payment the same charge.
"""
import logging
from datetime import timedelta

from sqlalchemy import update

from ..core import events
from ..core.database import utcnow
from ..core.extensions import db
from ..customers.models import Customer
from ..jobs.models import FAILED
from ..jobs.queue import PermanentError, RetryLater, enqueue, handler, on_failure
from ..tenancy.models import Merchant
from . import allocation, claims, methods, payments
from .models import Invoice, Payment
from .reasons import N_, NOTHING_LEFT


def _payment(job) -> tuple[Merchant, Payment]:
    payment = db.session.get(Payment, job.payload.get("payment_id"))
    if payment is None:
        raise PermanentError("the payment no longer exists")
    return db.session.get(Merchant, payment.merchant_id), payment


@handler(payments.SCHEDULED_JOB)
def run_scheduled(job) -> None:
    merchant, payment = _payment(job)
    if payment.status != "scheduled":
        return  # cancelled, or another run took it
    customer = db.session.get(Customer, payment.customer_id)
    # the customer is not present: the charge is off-session, and a resolve repeats it so
    changes = {"status": "pending", "plan": {**payment.plan, "off_session": True}}
    if payment.plan.get("autopay_invoice"):  # autopay charges today's default method
        method = methods.default_method(merchant, customer)
        if method is None or not customer.autopay:
            changes = {"status": "cancelled",
                       "failure_message": N_("Autopay is off or no payment method is on file.")}
        else:
            changes.update(method_token=method.token, method_label=method.label,
                           method=method.kind)
    if changes["status"] == "pending" and payment.plan.get("invoice_ids"):
        due = allocation.still_due(merchant, payment)
        if due <= 0:  # paid meanwhile (a typed amount too: it was for these invoices)
            changes = {"status": "cancelled", "failure_message": NOTHING_LEFT}
        elif payment.plan.get("balance_mode"):
            changes["amount_minor"] = min(due, payment.amount_minor)
    if changes["status"] == "cancelled":
        changes["method_token"] = ""
    taken = db.session.execute(update(Payment).where(Payment.id == payment.id,
                                                     Payment.status == "scheduled")
                               .values(**changes))
    if taken.rowcount == 1 and changes["status"] == "pending":
        if not claims.claim(merchant, payment, payment.plan.get("invoice_ids") or []):
            db.session.rollback()  # another payment is in flight for it: look again later
            _wait_for_claim(merchant, payment, job)
            return
        if payment.plan.get("balance_mode") and not _shrink_to_claimed(payment):
            return  # cancelled: the job's end commits it
        payments.queue_resolution(merchant, payment)  # committed with the claim
    db.session.commit()  # before the gateway is called (unit_of_work: the one exception)
    if taken.rowcount == 1 and changes["status"] == "pending":
        db.session.refresh(payment)
        payments.charge(merchant, payment)


WAIT_FOR_CLAIM = timedelta(minutes=15)
MAX_WAITS = 96  # a day: longer, and the payment is failed and the customer told


def _wait_for_claim(merchant, payment: Payment, job) -> None:
    """Another payment of the invoice is in flight: run again once it may have settled, as a
    new job, so waiting spends none of this job's retries. After a day, the scheduled payment
    fails and the customer is told, rather than staying "scheduled" with nothing to run it."""
    waited = int(job.payload.get("waited", 0))
    if waited < MAX_WAITS:
        enqueue(payments.SCHEDULED_JOB, {"payment_id": payment.id, "waited": waited + 1},
                merchant_id=merchant.id, run_at=utcnow() + WAIT_FOR_CLAIM)
    else:
        _give_up(merchant, payment, N_("Another payment for this invoice was still being "
                                       "processed, so this one was not made."))


def _give_up(merchant, payment: Payment, reason: str) -> None:
    """A scheduled payment that will not run fails in the open: its history says why and the
    customer gets the Payment Failed email (it was off session: nobody saw it)."""
    done = db.session.execute(update(Payment).where(Payment.id == payment.id,
                                                    Payment.status == "scheduled")
                              .values(status="failed", method_token="", failure_message=reason,
                                      plan={**payment.plan, "off_session": True}))
    if done.rowcount == 1:
        db.session.refresh(payment)
        events.record(merchant, "payment.failed", payment_id=payment.id,
                      customer_id=payment.customer_id)


@on_failure(payments.SCHEDULED_JOB)
def _scheduled_job_failed(job) -> None:
    """The job ran out of retries (a database or gateway set-up error each time): the payment
    does not stay "scheduled" with nothing left to run it."""
    if job.status != FAILED:
        return
    payment = db.session.get(Payment, job.payload.get("payment_id"))
    if payment is not None and payment.status == "scheduled":
        _give_up(db.session.get(Merchant, payment.merchant_id), payment,
                 N_("The payment could not be made; nothing was charged."))


@on_failure(payments.RESOLVE_JOB)
def _resolve_job_failed(job) -> None:
    """A week without an answer from the gateway: the payment stays pending (it may yet have
    charged), its invoices stay claimed, and the log says so for the merchant's support."""
    if job.status == FAILED:
        logging.getLogger(__name__).error(
            "payment %s is still pending after a week; its invoices stay in progress",
            job.payload.get("payment_id"))


def _shrink_to_claimed(payment: Payment) -> bool:
    """A balance payment charges no more than its invoices owe once they are claimed (a
    payment that settled just before may have paid them); False when nothing is left."""
    due = claims.claimed_balance(payment)
    if due > 0:
        payment.amount_minor = min(due, payment.amount_minor)
        return True
    payment.status, payment.method_token = "cancelled", ""
    payment.failure_message = NOTHING_LEFT
    claims.release(payment)
    return False


@handler(payments.RESOLVE_JOB)
def resolve_pending(job) -> None:
    merchant, payment = _payment(job)
    if payment.status != "pending":
        return  # settled meanwhile (a webhook, an earlier run)
    result = payments.charge(merchant, payment, resolve=True)
    if result.status == "pending":
        raise RetryLater("the gateway has not answered yet")


def schedule_autopay(merchant, customer: Customer, invoice: Invoice) -> Payment | None:
    """On issuing: with autopay on, the invoice is paid on its due date (in the caller's
    transaction). One autopay payment per invoice, by its idempotency key. Not for an invoice
    the customer raised in the widget: they are taken to pay it there and then."""
    if (not customer.autopay or invoice.balance_minor <= 0 or invoice.request_key
            or methods.default_method(merchant, customer) is None):
        return None
    payment = Payment(
        merchant_id=merchant.id, customer_id=customer.id, amount_minor=invoice.balance_minor,
        currency=invoice.currency, status="scheduled", method="card", source="autopay",
        method_label="Autopay", idempotency_key=f"autopay-invoice-{invoice.id}",
        scheduled_for=invoice.due_date,
        plan={"invoice_ids": [invoice.id], "balance_mode": True, "autopay_invoice": True})
    db.session.add(payment)
    db.session.flush()
    enqueue(payments.SCHEDULED_JOB, {"payment_id": payment.id}, merchant_id=merchant.id,
            run_at=payments.start_of(merchant, invoice.due_date))
    return payment
