"""How a succeeded payment is spread over the invoices it was for: balances are taken down with
a conditional UPDATE (`balance >= amount`), so two payments can never overpay an invoice, and
whatever no longer fits becomes account credit."""
from sqlalchemy import select, update

from ..core.extensions import db
from ..customers.models import Customer
from .models import Invoice, Payment, PaymentAllocation


def planned_invoices(merchant, payment: Payment) -> list[Invoice]:
    ids = [i for i in payment.plan.get("invoice_ids", []) if isinstance(i, int)]
    if not ids:
        return []
    return list(db.session.scalars(
        select(Invoice).where(Invoice.merchant_id == merchant.id,
                              Invoice.customer_id == payment.customer_id, Invoice.id.in_(ids))
        .order_by(Invoice.due_date, Invoice.id)))


def still_due(merchant, payment: Payment) -> int:
    """What the planned invoices still owe: a scheduled balance payment charges no more."""
    return sum(i.balance_minor for i in planned_invoices(merchant, payment)
               if i.status == "issued")


def allocate(merchant, customer, payment: Payment, invoices: list[Invoice]) -> None:
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
