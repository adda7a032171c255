"""Paying invoices (W-3, P-2): one charge per attempt, balances that never go below zero, a
failed charge that changes nothing, and the receipt through the outbox.

Order of work: the payment row (pending, with its idempotency key) is committed before the
gateway is called, so a crash leaves a visible pending payment, never a silent loss; a second
submit with the same key finds that row and charges nothing. Balances are taken down with a
conditional UPDATE (`balance >= amount`), so two concurrent payments cannot overpay an invoice:
whatever no longer fits becomes account credit.
"""
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..customers.enrolment import entry_link
from ..customers.models import Customer
from ..extensions import db
from ..money import format_money
from ..notifications import templates
from ..notifications.outbox import queue_email
from .gateways import gateway
from .models import Invoice, Payment, PaymentAllocation


class PaymentError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def outstanding(merchant, customer) -> list[Invoice]:
    return list(db.session.scalars(
        select(Invoice).where(Invoice.merchant_id == merchant.id,
                              Invoice.customer_id == customer.id, Invoice.status == "issued",
                              Invoice.balance_minor > 0)
        .order_by(Invoice.due_date, Invoice.id)))


def plan(merchant, customer, rules, invoice_ids: list[int], amount_minor: int | None):
    """The invoices and amount of a payment, checked against the profile's Payment tab."""
    open_invoices = outstanding(merchant, customer)
    chosen = ([i for i in open_invoices if i.id in set(invoice_ids)]
              if rules.invoice_choice == "select" else open_invoices)
    if rules.invoice_choice == "select" and len(chosen) != len(set(invoice_ids)):
        raise PaymentError("Choose among your outstanding invoices.", "invoices")
    due = sum(i.balance_minor for i in chosen)
    if rules.payment_amount == "balance" or amount_minor is None:
        if not chosen:
            raise PaymentError("Choose at least one invoice to pay.", "invoices")
        return chosen, due
    if amount_minor <= 0:
        raise PaymentError("Enter an amount above zero.", "amount")
    if amount_minor > 100_000_000_00:
        raise PaymentError("That amount is too large.", "amount")
    return chosen, amount_minor


def pay(merchant, customer: Customer, invoices: list[Invoice], amount_minor: int, *,
        method: str, token: str, label: str, idempotency_key: str) -> Payment:
    existing = _by_key(merchant, idempotency_key)
    if existing is not None:
        return existing  # a double submit or a retry: charged once
    payment = Payment(merchant_id=merchant.id, customer_id=customer.id,
                      amount_minor=amount_minor, currency=merchant.currency, status="pending",
                      method=method, method_label=label, idempotency_key=idempotency_key)
    db.session.add(payment)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return _by_key(merchant, idempotency_key)
    result = gateway().charge(amount_minor=amount_minor, currency=merchant.currency,
                              token=token, idempotency_key=idempotency_key)
    payment.reference, payment.failure_message = result.reference, result.message
    if result.status == "succeeded":
        _allocate(merchant, customer, payment, invoices)
        payment.status = "succeeded"
        _receipt(merchant, customer, payment)
    elif result.status == "failed":
        payment.status = "failed"  # no balance changes
    db.session.commit()
    return payment


def find_attempt(merchant, customer, key: str) -> Payment | None:
    """The payment already made with this idempotency key by this customer, if any."""
    payment = _by_key(merchant, key)
    return payment if payment is not None and payment.customer_id == customer.id else None


def _by_key(merchant, key: str) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.merchant_id == merchant.id,
                                                   Payment.idempotency_key == key))


def _allocate(merchant, customer, payment: Payment, invoices: list[Invoice]) -> None:
    remaining = payment.amount_minor
    for invoice in invoices:
        while remaining > 0:
            db.session.refresh(invoice, ["balance_minor", "status"])
            if invoice.status != "issued" or invoice.balance_minor <= 0:
                break
            take = min(remaining, invoice.balance_minor)
            done = db.session.execute(
                update(Invoice).where(Invoice.id == invoice.id,
                                      Invoice.balance_minor >= take)
                .values(balance_minor=Invoice.balance_minor - take))
            if done.rowcount == 1:
                db.session.add(PaymentAllocation(payment_id=payment.id, invoice_id=invoice.id,
                                                 merchant_id=merchant.id, amount_minor=take))
                remaining -= take
                db.session.execute(update(Invoice).where(Invoice.id == invoice.id,
                                                         Invoice.balance_minor == 0)
                                   .values(status="paid"))
                break
            # another payment took some of it meanwhile: look again
    if remaining:
        db.session.execute(update(Customer).where(Customer.id == customer.id)
                           .values(credit_minor=Customer.credit_minor + remaining))


def _receipt(merchant, customer, payment: Payment) -> None:
    content = templates.render(merchant, "payment_receipt", {
        "contact_name": customer.contact_name,
        "portal_link": entry_link(merchant, "/"),
        "amount": format_money(payment.amount_minor, payment.currency, merchant.locale),
        "payment_date": payment.created_at.date().isoformat(),
        "reference": payment.reference})
    queue_email(merchant, "payment_receipt", customer.primary_emails, content)
