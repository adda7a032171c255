"""Account credit (what a customer paid beyond their invoices) pays their next invoices first,
as a billing system's customer balance does: applied when an invoice is issued, recorded as a
payment from "Account credit" so the history shows where the credit went."""
from sqlalchemy import update

from ..core.extensions import db
from ..customers.models import Customer
from . import payments
from .models import Invoice, Payment, PaymentAllocation


def apply_to(merchant, customer: Customer, invoice: Invoice) -> int:
    """Take what credit there is (up to the balance) off a newly issued invoice, in the caller's
    transaction; returns the amount applied. The credit is taken down with a conditional
    update, so two invoices issued at once never spend the same credit twice."""
    db.session.refresh(customer, ["credit_minor"])
    take = min(customer.credit_minor, invoice.balance_minor)
    if take <= 0:
        return 0
    taken = db.session.execute(
        update(Customer).where(Customer.id == customer.id, Customer.credit_minor >= take)
        .values(credit_minor=Customer.credit_minor - take))
    if taken.rowcount != 1:
        return 0
    payment = Payment(merchant_id=merchant.id, customer_id=customer.id, amount_minor=take,
                      currency=invoice.currency, status="succeeded", method="credit",
                      source="credit", method_label="Account credit",
                      idempotency_key=f"credit-invoice-{invoice.id}",
                      plan={"invoice_ids": [invoice.id]})
    payments.number(merchant, payment)
    db.session.add(payment)
    db.session.flush()
    db.session.add(PaymentAllocation(payment_id=payment.id, invoice_id=invoice.id,
                                     merchant_id=merchant.id, amount_minor=take))
    invoice.balance_minor -= take
    if invoice.balance_minor == 0:
        invoice.status = "paid"
    return take
