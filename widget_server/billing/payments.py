"""Paying invoices (W-3, P-2): one charge per attempt, balances that never go below zero, a
failed charge that changes nothing, and the receipt through the outbox.

Order of work: the payment row (pending or scheduled, with its idempotency key) is committed
before the gateway is called, so a crash leaves a visible pending payment, never a silent loss;
a second submit with the same key finds that row and charges nothing. Balances are taken down
with a conditional UPDATE (`balance >= amount`), so two concurrent payments cannot overpay an
invoice: whatever no longer fits becomes account credit.

A payment's life: scheduled (Edit Effective Date, autopay) -> pending -> succeeded | failed, or
scheduled -> cancelled. A pending payment whose gateway answer was lost is resolved by the
worker (`payment_jobs`), asking the gateway with the same idempotency key.
"""
from datetime import date, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from ..core import events
from ..core.database import utcnow
from ..core.domain import DomainError
from ..core.extensions import db
from ..core.i18n import gettext
from ..customers.models import Customer
from ..jobs.queue import enqueue
from ..tenancy.counters import next_number
from . import allocation, claims, methods, payment_history, schedules
from .gateways import ChargeRequest, ChargeResult, GatewayUnavailable, MethodToken
from .models import OFFLINE_METHODS, Invoice, Payment
from .providers import gateway_for
from .reasons import OTHER_PROVIDER
from .schedules import SCHEDULED_JOB, start_of

RESOLVE_JOB = "payments.resolve"
RESOLVE_AFTER = timedelta(minutes=2)
# Asked again with backoff (30 s doubling to every 2 h) for about a week: a bank debit takes
# days to settle, and until it does its invoices stay claimed.
RESOLVE_ATTEMPTS = 90
MAX_SCHEDULE_DAYS = 365


def pay(merchant, customer: Customer, invoices: list[Invoice], amount_minor: int, *,
        method: MethodToken, idempotency_key: str, save: bool = False, autopay: bool = False,
        scheduled_for: date | None = None, balance_mode: bool = False,
        client: dict | None = None, saved: bool = False, source: str = "browser",
        notes: dict | None = None) -> Payment:
    """Pay now, or schedule for `scheduled_for`. `save`/`autopay` keep the method on file once
    the charge succeeds; `saved` says the method already is (charged with its gateway
    customer); `balance_mode` lets a scheduled payment shrink to what is still due; `client`
    ({"ip", "user_agent"}) is the customer's browser, for an online debit mandate.

    Raises `GatewayUnavailable` (nothing saved, nothing charged) when payments are not set up,
    and `DomainError` when the key is another customer's or another payment is in flight for
    one of the invoices. Keys from browsers are prefixed by the caller ("c:"), so they never
    meet the server's own (autopay) keys.

    The rules of the profile are the checkout service's (`checkout.submit`); this is the
    mechanism. The one commit inside a service is here, before the gateway is called: the
    payment, its claim on the invoices and its resolution job are durable before any money
    moves."""
    existing = _earlier(merchant, customer, idempotency_key)
    if existing is not None:
        return existing  # a double submit or a retry: charged once
    gw = gateway_for(merchant)
    payment = Payment(
        merchant_id=merchant.id, customer_id=customer.id, amount_minor=amount_minor,
        currency=merchant.currency, status="scheduled" if scheduled_for else "pending",
        source=source,
        method=method.kind, method_label=method.label, idempotency_key=idempotency_key,
        scheduled_for=scheduled_for, method_token=method.token,
        plan={"invoice_ids": [i.id for i in invoices], "save": save, "autopay": autopay,
              "expires": method.expires, "balance_mode": balance_mode, "saved": saved,
              "off_session": bool(scheduled_for), "client": client or {}, "gateway": gw.name,
              **(notes or {})})
    kept = _insert_once(merchant, customer, payment)
    if kept is not payment:
        return kept  # the same attempt, submitted at the same moment
    if not scheduled_for:
        ids = [i.id for i in invoices]
        if not claims.claim(merchant, payment, ids):
            db.session.rollback()
            raise claims.in_progress_error()
        if balance_mode and ids:  # what they owe now that nobody else can pay them
            payment.amount_minor = claims.claimed_balance(payment)
            if payment.amount_minor <= 0:
                db.session.rollback()
                raise DomainError(gettext("These invoices are already paid: nothing more is due."),
                                   "invoices", code="nothing_due", status=409)
    if scheduled_for:
        enqueue(SCHEDULED_JOB, {"payment_id": payment.id}, merchant_id=merchant.id,
                run_at=start_of(merchant, scheduled_for))
    else:
        queue_resolution(merchant, payment)
    db.session.commit()
    if not scheduled_for:
        charge(merchant, payment)
    return payment


def _expired() -> DomainError:
    return DomainError(gettext("This payment form has expired; please reload the page."))


def _earlier(merchant, customer: Customer, key: str) -> Payment | None:
    """The payment already made with this key, if any; another customer's is refused."""
    existing = payment_history.by_key(merchant, key)
    if existing is not None and existing.customer_id != customer.id:
        raise _expired()
    return existing


def _insert_once(merchant, customer: Customer, payment: Payment) -> Payment:
    """Insert the new payment, or, when the same key was inserted at the same moment (the
    unique key refuses ours), roll back and give that one: one payment per attempt."""
    key = payment.idempotency_key
    db.session.add(payment)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        existing = payment_history.by_key(merchant, key)
        if existing is None or existing.customer_id != customer.id:
            raise _expired() from None
        return existing
    return payment


def queue_resolution(merchant, payment: Payment) -> None:
    """Queued with the pending payment, before the gateway is called: whatever happens after
    the charge (a crash, a lost answer, a database error), the worker finds out what became of
    it. The job does nothing once the payment has settled."""
    enqueue(RESOLVE_JOB, {"payment_id": payment.id}, merchant_id=merchant.id,
            run_at=utcnow() + RESOLVE_AFTER, max_attempts=RESOLVE_ATTEMPTS)


def charge(merchant, payment: Payment, *, resolve: bool = False) -> ChargeResult:
    """Charge a pending payment (or, with `resolve`, ask what became of an earlier attempt)
    and settle it by the answer. A resolve sends exactly the first request again (same key,
    same parameters, same gateway), as the gateway compares them; a resolve that cannot reach
    that gateway is still pending, never failed, as the first attempt may have charged."""
    customer = db.session.get(Customer, payment.customer_id)
    plan_ = payment.plan or {}
    save, off_session = bool(plan_.get("save")), bool(plan_.get("off_session"))
    try:
        gw = gateway_for(merchant)
        if plan_.get("gateway", gw.name) != gw.name:
            raise GatewayUnavailable(OTHER_PROVIDER)
        customer_ref = ""
        if save or off_session or plan_.get("saved"):
            customer_ref = gw.ensure_customer(customer)
            if customer.gateway_customer_ref != customer_ref:
                customer.gateway_customer_ref = customer_ref
                db.session.commit()  # kept whatever the charge's outcome
    except GatewayUnavailable as exc:
        if resolve:
            return ChargeResult("pending", "", exc.reason)
        result = ChargeResult("failed", "", exc.reason)  # nothing was charged: say so
    else:
        client = plan_.get("client") or {}
        result = (gw.resolve if resolve else gw.charge)(ChargeRequest(
            amount_minor=payment.amount_minor, currency=payment.currency,
            token=payment.method_token, idempotency_key=payment.idempotency_key,
            customer_ref=customer_ref, save=save, off_session=off_session,
            description=f"Payment {payment.id}", kind=payment.method,
            reference=payment.reference if resolve else "",
            client_ip=client.get("ip", ""), user_agent=client.get("user_agent", "")))
    settle(merchant, customer, payment, result)
    return result


def number(merchant, payment: Payment) -> None:
    """Give a succeeded payment its receipt number (W-12) from the merchant's "payment"
    counter, in the transaction that records its success: a rolled-back success gives the
    number back, so receipts have no gaps."""
    if payment.number is None:
        payment.number = next_number(merchant, "payment")


def settle(merchant, customer: Customer, payment: Payment, result: ChargeResult) -> None:
    """Apply a gateway's answer to a pending payment, once: a second answer (a webhook after
    the worker, say) finds the payment no longer pending and changes nothing. A pending answer
    changes nothing: the resolution queued with the payment asks again."""
    claimed = db.session.execute(
        update(Payment).where(Payment.id == payment.id, Payment.status == "pending")
        .values(status=result.status))
    if claimed.rowcount != 1:
        return  # settled already: nothing of the caller's work is undone
    payment.reference = result.reference or payment.reference
    payment.failure_message = result.message
    if result.status != "pending":
        claims.release(payment)
    if result.status == "succeeded":
        invoices = allocation.planned_invoices(merchant, payment)
        allocation.allocate(merchant, customer, payment, invoices)
        payment.status = "succeeded"
        number(merchant, payment)
        paid = [i.id for i in invoices if i.status == "paid"]
        if paid:  # what was still scheduled for them (autopay, a chosen date) has nothing to do
            schedules.cancel_for_paid(merchant, customer, paid)
        if payment.plan.get("save") or payment.plan.get("autopay"):
            methods.keep(merchant, customer, MethodToken(
                payment.method_token, payment.method_label, payment.method,
                payment.plan.get("expires", "")), autopay=bool(payment.plan.get("autopay")))
        payment.method_token = ""
        # the receipt is a subscriber's (notifications.subscribers), in this transaction
        events.record(merchant, "payment.succeeded", payment_id=payment.id,
                      customer_id=customer.id, invoice_ids=[i.id for i in invoices])
    elif result.status == "failed":
        payment.status, payment.method_token = "failed", ""  # no balance changes
        # emailed only when off session (scheduled or autopay: nobody saw it fail)
        events.record(merchant, "payment.failed", payment_id=payment.id,
                      customer_id=customer.id)




def record_offline(merchant, customer: Customer, invoices: list[Invoice], amount_minor: int, *,
                   method: str, reference: str, received_on: date,
                   idempotency_key: str) -> Payment:
    """Money received outside the portal (#24: bank transfer, cheque, cash), recorded by an
    admin against some of the customer's open invoices. It goes the way every payment goes
    once its money is in: `settle` allocates it (the oldest due first, whatever no longer fits
    becomes account credit), numbers its receipt and tells the subscribers (the receipt
    email). The same form posted twice (the same key) records it once."""
    existing = _earlier(merchant, customer, idempotency_key)
    if existing is not None:
        return existing
    errors = {}
    if method not in OFFLINE_METHODS:
        errors["method"] = gettext("Choose how the money was received.")
    if amount_minor <= 0:
        errors["amount"] = gettext("Enter an amount above zero.")
    if received_on > merchant.today():  # money not yet in is not a payment received
        errors["received_on"] = gettext("The day the money arrived cannot be in the future.")
    if any(i.customer_id != customer.id or i.status != "issued" for i in invoices):
        errors["invoices"] = gettext("Choose among the customer's open invoices.")
    if errors:
        raise DomainError.of(errors)
    payment = Payment(
        merchant_id=merchant.id, customer_id=customer.id, amount_minor=amount_minor,
        currency=merchant.currency, status="pending", source="offline", method=method,
        method_label=OFFLINE_METHODS[method], reference=(reference or "").strip()[:100],
        idempotency_key=idempotency_key, received_on=received_on,
        plan={"invoice_ids": [i.id for i in invoices], "gateway": "offline"})
    kept = _insert_once(merchant, customer, payment)
    if kept is not payment:
        return kept
    settle(merchant, customer, payment, ChargeResult("succeeded", payment.reference))
    return payment
