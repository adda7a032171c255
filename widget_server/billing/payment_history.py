"""A customer's payments as they look them up: by the attempt's idempotency key (a double
submit finds its first payment) and newest first, keyset-paginated."""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..core.extensions import db
from .models import Payment, PaymentAllocation

# what a payment paid (W-12), loaded with the payments: two more queries, whatever the count
_PAID = selectinload(Payment.allocations).selectinload(PaymentAllocation.invoice)


def find_attempt(merchant, customer, key: str) -> Payment | None:
    """The payment already made with this idempotency key by this customer, if any."""
    payment = by_key(merchant, key)
    return payment if payment is not None and payment.customer_id == customer.id else None


def history(merchant, customer, *, before: int | None = None, limit: int = 20) -> list[Payment]:
    """The customer's payments, newest first, keyset-paginated by id."""
    query = select(Payment).where(Payment.merchant_id == merchant.id,
                                  Payment.customer_id == customer.id)
    if before is not None:
        query = query.where(Payment.id < before)
    return list(db.session.scalars(query.order_by(Payment.id.desc()).limit(limit)
                                   .options(_PAID)))


def receipt(merchant, customer, payment_id: int) -> Payment | None:
    """A succeeded payment of this customer with what it paid, or None (W-12): another
    merchant's or customer's payment, or one that has not succeeded, has no receipt here."""
    return db.session.scalar(select(Payment).where(
        Payment.id == payment_id, Payment.merchant_id == merchant.id,
        Payment.customer_id == customer.id, Payment.status == "succeeded",
        Payment.number.is_not(None)).options(_PAID))


def paid_invoices(payment: Payment) -> list:
    """The allocations of a payment, in invoice number order."""
    return sorted(payment.allocations, key=lambda a: (a.invoice.number, a.id))


def by_key(merchant, key: str) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.merchant_id == merchant.id,
                                                   Payment.idempotency_key == key))


def allocations_of(payment: Payment) -> list[PaymentAllocation]:
    """What a payment paid, read afresh (the allocations are added after it was loaded), in
    invoice number order: the thank-you page lists them (#20)."""
    rows = db.session.scalars(select(PaymentAllocation).where(
        PaymentAllocation.payment_id == payment.id)
        .options(selectinload(PaymentAllocation.invoice)))
    return sorted(rows, key=lambda a: (a.invoice.number, a.id))
