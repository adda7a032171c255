"""Checking out the cart (issue #22 slice b, SPEC W-8): a signed-in customer's cart becomes one
order, whose first invoice is paid through the checkout service (`billing.checkout`, the same
rules, idempotency and gateway as the Pay page), and the cart is emptied once it is paid.

One order however often the checkout is submitted: the order's request key is derived from the
cart as it stands (its id, key and last change), so a double submit, or a new attempt after a
declined card, gives back the same order and its still-unpaid invoice, which is then paid. A
declined card keeps the cart. Services flush: the one commit is the payment service's own,
before the gateway is called (tests/test_unit_of_work.py), which makes the order durable too.
"""
import hashlib
from dataclasses import dataclass, replace
from datetime import date

from ..billing import checkout as billing_checkout
from ..billing import payment_history
from ..billing.models import Invoice, Payment
from ..core.domain import DomainError
from ..core.extensions import db
from . import carts, orders
from .models import Order

EMPTY = "Your cart is empty."
PAID = ("succeeded",)


@dataclass(frozen=True)
class Outcome:
    """The order the cart made and the payment of its first invoice (None when nothing was
    due: a free order)."""
    order: Order
    payment: Payment | None

    @property
    def paid(self) -> bool:
        return self.payment is None or self.payment.status in PAID


def request_key(cart) -> str:
    """The order's request key for the cart as it stands: the same until the cart changes.
    It starts with the cart's id, so the orders of the cart's earlier states can be found."""
    stamp = cart.updated_at.isoformat() if cart.updated_at is not None else ""
    digest = hashlib.sha256(f"{cart.id}:{cart.key}:{stamp}".encode()).hexdigest()[:20]
    return f"{_key_prefix(cart)}{digest}"


def _key_prefix(cart) -> str:
    return f"cart:{cart.id}:"


def _abandon_earlier(merchant, customer, cart, key: str, today: date) -> None:
    """The orders this cart made in an earlier state and never paid (a declined card, then the
    cart changed) are cancelled and their invoices voided: the customer ordered what the cart
    holds now, and owes nothing for what they never bought. One with money on it stays."""
    for order in orders.unpaid_by_key_prefix(merchant, customer, _key_prefix(cart)):
        if order.request_key != key:
            orders.withdraw_unpaid(merchant, order, today)


def _order_of(merchant, payment: Payment) -> Order | None:
    ids = [a.invoice_id for a in payment.allocations] or [
        int(i) for i in (payment.plan or {}).get("invoice_ids") or []]
    for invoice_id in ids:
        invoice = db.session.get(Invoice, invoice_id)
        if invoice is not None and invoice.merchant_id == merchant.id and invoice.order_id:
            return orders.get_order(merchant, invoice.order_id, payment.customer_id)
    return None


def checkout(merchant, customer, cart, rules, payment_request: billing_checkout.PaymentRequest,
             today: date) -> Outcome:
    """Place the order of the cart's lines still offered and pay its first invoice by the
    profile's Payment tab `rules` with the method of `payment_request`; empty the cart once
    paid. Raises `DomainError` for an empty cart or a request the rules refuse (nothing
    charged); a declined card comes back as a failed payment, the cart kept."""
    if cart is None or cart.merchant_id != merchant.id:
        raise DomainError(EMPTY, code="empty_cart")
    earlier = payment_history.find_attempt(merchant, customer, payment_request.idempotency_key)
    if earlier is not None:  # the same attempt again (double click, reload): no new charge
        order = _order_of(merchant, earlier)
        if order is not None:
            return Outcome(order, earlier)
    summary = carts.summary(merchant, cart)
    if not summary.lines:
        raise DomainError(EMPTY, code="empty_cart")
    items = [orders.Item(line.product_id, line.quantity) for line in summary.lines]
    carts.get_or_create(merchant, cart.key, customer)  # the cart is the customer's now
    key = request_key(cart)
    _abandon_earlier(merchant, customer, cart, key, today)
    order = orders.place(merchant, customer, items, today, request_key=key,
                         awaiting_payment=True)
    invoice = db.session.get(Invoice, order.invoice_id) if order.invoice_id else None
    if invoice is None or invoice.balance_minor <= 0 or invoice.status == "paid":
        _settle(merchant, cart, order)
        return Outcome(order, None)
    payment = billing_checkout.submit(
        merchant, customer, rules,
        replace(payment_request, invoice_ids=(invoice.id,), amount_minor=None,
                payment_date=None, own_order=True), today)
    if payment.status in PAID:
        _settle(merchant, cart, order)
    return Outcome(order, payment)


def _settle(merchant, cart, order: Order) -> None:
    """The order is paid: the cart emptied and the order confirmed, once. Of two submits of
    one checkout that both see it paid, only the one that took the cart's lines confirms."""
    if carts.empty(merchant, cart):
        orders.confirm_paid(merchant, order)
