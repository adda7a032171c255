"""Building invoices from catalogue lines; totals are computed here and only here."""
from datetime import date

from sqlalchemy import func, select

from ..extensions import db
from .models import Invoice, InvoiceLine, Product


def next_invoice_number(merchant) -> str:
    count = db.session.scalar(select(func.count(Invoice.id))
                              .where(Invoice.merchant_id == merchant.id))
    return f"INV-{count + 1:05d}"


def build_invoice(merchant, customer, items: list[tuple[Product, int]], *, number: str,
                  issue_date: date | None, due_date: date | None,
                  status: str = "issued") -> Invoice:
    """An invoice with one line per (product, quantity); the balance starts at the total.

    Every product must be in the merchant's currency: an invoice never mixes currencies.
    """
    invoice = Invoice(merchant_id=merchant.id, customer_id=customer.id, number=number,
                      status=status, currency=merchant.currency, issue_date=issue_date,
                      due_date=due_date)
    invoice.lines = [InvoiceLine.for_product(merchant, product, quantity, position)
                     for position, (product, quantity) in enumerate(items)]
    invoice.total_minor = invoice.balance_minor = sum(line.amount_minor for line in invoice.lines)
    db.session.add(invoice)
    return invoice
