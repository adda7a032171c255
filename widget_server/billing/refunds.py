"""Refunds (#24 item 3, T-7): money sent back on a succeeded payment through the gateway that
took it, fully or partly, never more than is left.

Balances: the invoices the payment paid stay paid and account credit is left as it is (Stripe's
and Chargebee's model); the refund is recorded against the payment, whose `refunded_minor` says
how much of it went back. A merchant who wants the invoice owed again issues a new invoice.

Order of work, as for charges (`payments.pay`): the refund row (pending, with its idempotency
key) and the amount it holds on the payment are committed before the gateway is asked, so a
crash leaves a visible pending refund, and two refunds cannot give back more than was paid:
the hold is one conditional UPDATE (`refunded + amount <= amount`). The same form posted twice
(the same key) finds the first refund and refunds nothing more. A failed refund gives its hold
back; a pending one (no answer) keeps it until `resolve` asks again with the same key.
"""
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..core import events
from ..core.domain import DomainError
from ..core.extensions import db
from ..core.i18n import gettext as _
from ..core.money import format_money
from ..tenancy.counters import next_number
from .gateways import GatewayUnavailable, RefundRequest, RefundResult
from .models import Payment, Refund
from .providers import gateway_for
from .reasons import OTHER_PROVIDER

SEQUENCE = "refund"
MAX_REASON = 300


def by_key(merchant, key: str) -> Refund | None:
    return db.session.scalar(select(Refund).where(Refund.merchant_id == merchant.id,
                                                  Refund.idempotency_key == key))


def of_payment(merchant, payment_id: int) -> list[Refund]:
    return list(db.session.scalars(select(Refund).where(
        Refund.merchant_id == merchant.id, Refund.payment_id == payment_id)
        .order_by(Refund.id)))


def get(merchant, refund_id: int) -> Refund | None:
    return db.session.scalar(select(Refund).where(Refund.merchant_id == merchant.id,
                                                  Refund.id == refund_id))


def _left(merchant, payment: Payment) -> str:
    return format_money(payment.refundable_minor, payment.currency, merchant.locale)


def refund(merchant, payment: Payment, amount_minor: int | None, *, reason: str,
           idempotency_key: str) -> Refund:
    """Refund `amount_minor` of `payment` (None: all that is left) through its gateway.
    Raises `DomainError` for an amount above what is left, a payment that cannot be refunded
    (not succeeded, account credit, offline) or a gateway that is not set up."""
    earlier = by_key(merchant, idempotency_key)
    if earlier is not None:
        if earlier.payment_id != payment.id:
            raise DomainError(_("This form has expired; please reload the page."))
        return earlier  # the same form again: refunded once
    if payment.merchant_id != merchant.id or payment.status != "succeeded":
        raise DomainError(_("Only a succeeded payment can be refunded."), "amount")
    if payment.source in ("credit", "offline"):
        raise DomainError(_("This payment was not made through a payment provider, so it "
                            "cannot be refunded here; give the money back yourself and "
                            "issue a credit note."), "amount")
    amount = payment.refundable_minor if amount_minor is None else amount_minor
    if amount <= 0:
        raise DomainError(_("Enter an amount above zero.") if payment.refundable_minor
                          else _("This payment is refunded in full."), "amount")
    reason = (reason or "").strip()[:MAX_REASON]
    gw = gateway_for(merchant)
    if (payment.plan or {}).get("gateway", gw.name) != gw.name:
        raise GatewayUnavailable(OTHER_PROVIDER)
    row = Refund(merchant_id=merchant.id, customer_id=payment.customer_id,
                 payment_id=payment.id, amount_minor=amount, currency=payment.currency,
                 reason=reason, status="pending", idempotency_key=idempotency_key)
    db.session.add(row)
    try:
        db.session.flush()  # a concurrent twin with the same key waits here, then fails
    except IntegrityError:
        db.session.rollback()
        earlier = by_key(merchant, idempotency_key)
        if earlier is None or earlier.payment_id != payment.id:
            raise DomainError(_("This form has expired; please reload the page.")) from None
        return earlier
    held = db.session.execute(
        update(Payment).where(Payment.id == payment.id, Payment.status == "succeeded",
                              Payment.refunded_minor + amount <= Payment.amount_minor)
        .values(refunded_minor=Payment.refunded_minor + amount)
        .execution_options(synchronize_session=False))
    if held.rowcount != 1:
        db.session.rollback()
        db.session.refresh(payment)
        raise DomainError(_("At most %(amount)s of this payment can still be refunded.",
                            amount=_left(merchant, payment)), "amount",
                          code="refund_exceeds", status=409)
    db.session.commit()  # the refund and its hold are durable before any money moves
    _ask(merchant, gw, row)
    return row


def resolve(merchant, row: Refund) -> Refund:
    """Ask again about a pending refund (no answer the first time), with the same key: the
    gateway replays its first answer or makes the refund now, once."""
    if row.status == "pending":
        _ask(merchant, gateway_for(merchant), row)
    return row


def _ask(merchant, gw, row: Refund) -> None:
    payment = db.session.get(Payment, row.payment_id)
    result = gw.refund(RefundRequest(amount_minor=row.amount_minor, currency=row.currency,
                                     reference=payment.reference,
                                     idempotency_key=row.idempotency_key, reason=row.reason))
    settle(merchant, row, result)


def settle(merchant, row: Refund, result: RefundResult) -> None:
    """Apply the gateway's answer once: succeeded takes its number (REF-00001) and is told to
    the subscribers; failed gives the hold back; pending changes nothing."""
    if result.status == "pending":
        return
    done = db.session.execute(update(Refund).where(Refund.id == row.id,
                                                   Refund.status == "pending")
                              .values(status=result.status)
                              .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        return  # settled already
    row.status = result.status
    row.reference = result.reference or row.reference
    if result.status == "succeeded":
        row.number = f"REF-{next_number(merchant, SEQUENCE):05d}"
        events.record(merchant, "refund.succeeded", refund_id=row.id,
                      payment_id=row.payment_id, customer_id=row.customer_id)
    else:
        row.failure_message = (result.message or "")[:300]
        db.session.execute(update(Payment).where(Payment.id == row.payment_id)
                           .values(refunded_minor=Payment.refunded_minor - row.amount_minor)
                           .execution_options(synchronize_session=False))
    db.session.flush()
