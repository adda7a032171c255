"""A customer's payments as they look them up: by the attempt's idempotency key (a double
submit finds its first payment) and newest first, keyset-paginated."""
from sqlalchemy import select

from ..core.extensions import db
from .models import Payment


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
    return list(db.session.scalars(query.order_by(Payment.id.desc()).limit(limit)))


def by_key(merchant, key: str) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.merchant_id == merchant.id,
                                                   Payment.idempotency_key == key))
