"""Issuing an invoice (T-5): the status, the dates, and the Invoice Issued email with its signed
"Pay invoice" link (W-5), valid until the invoice is paid or voided."""
from datetime import date, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from ..core import events
from ..core.domain import DomainError
from ..core.extensions import db
from ..customers.enrolment import entry_link
from ..customers.models import Customer
from . import credit
from .invoices import is_draft_number, next_invoice_number
from .models import Invoice
from .payment_jobs import schedule_autopay

SALT = "pay-invoice"


def pay_token(invoice: Invoice) -> str:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT).dumps(
        {"m": invoice.merchant_id, "i": invoice.id})


def invoice_named_by(merchant, token: str) -> Invoice | None:
    """The invoice a genuine pay link of this merchant names, whatever its status."""
    try:
        data = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("m") != merchant.id or not isinstance(
            data.get("i"), int):
        return None
    invoice = db.session.get(Invoice, data["i"])
    return invoice if invoice is not None and invoice.merchant_id == merchant.id else None


def invoice_for_pay_token(merchant, token: str) -> Invoice | None:
    """The invoice a pay link names, if it is this merchant's and still payable."""
    invoice = invoice_named_by(merchant, token)
    return invoice if invoice is not None and invoice.status == "issued" else None


def pay_link(merchant, invoice: Invoice) -> str:
    return entry_link(merchant, f"/pay/{pay_token(invoice)}")


def issue(merchant, invoice: Invoice, today: date, *, awaiting_payment: bool = False) -> None:
    if invoice.status != "draft":
        raise DomainError("Only a draft can be issued.")
    if is_draft_number(invoice.number):
        # Taken at issue, not at drafting, so issued invoices are numbered without gaps; the
        # counter row stays locked until the commit below (or a rollback gives the number back).
        invoice.number = next_invoice_number(merchant)
    invoice.status = "issued"
    invoice.issue_date = today
    invoice.due_date = invoice.due_date or today + timedelta(days=30)
    customer = db.session.get(Customer, invoice.customer_id)
    db.session.flush()
    credit.apply_to(merchant, customer, invoice)
    # its email is a subscriber's (notifications.subscribers), in this transaction
    events.record(merchant, "invoice.issued", invoice_id=invoice.id, customer_id=customer.id,
                  **({"awaiting_payment": True} if awaiting_payment else {}))
    schedule_autopay(merchant, customer, invoice)
    db.session.flush()  # the status, its email and its autopay together
