"""The emails, as subscribers to the domain events that cause them (issue #18, N-1, N-2).

Each runs inside the transaction that records its event (`events.record`), so the queued
message commits or rolls back with the change. Each returns what it queued (an empty list when
the type is switched off or there is no address): callers that report "sent" read that from
`record`'s result. Secrets (links carrying a raw token, a temporary password) arrive as
transient keyword arguments and are never stored in the event; they are marked as the
message's secrets (`secret=`), masked in the delivery log and in the stored message once sent.
"""
from babel.dates import format_date

from ..billing.issuing import pay_link
from ..billing.models import Invoice, Payment
from ..commerce.models import Order
from ..core.database import utcnow
from ..core.events import subscriber
from ..core.extensions import db
from ..core.money import format_money
from ..customers import enrolment
from ..customers.models import Customer
from . import templates
from .outbox import queue_email, type_enabled


def _customer(event) -> Customer:
    return db.session.get(Customer, event.payload["customer_id"])


def _queue(merchant, email_type: str, customer: Customer, values: dict, *,
           subject: str | None = None, body: str | None = None, reply_to: str = "",
           secret: tuple[str, ...] = ()):
    """Render `email_type` for the customer and queue it to their primary addresses; the
    values named in `secret` are the message's secrets."""
    content = templates.render(merchant, email_type,
                               {"contact_name": customer.contact_name, **values},
                               subject=subject, body=body)
    return queue_email(merchant, email_type, customer.primary_emails, content,
                       reply_to=reply_to, secrets=tuple(values[key] for key in secret))


@subscriber("customer.created")
def invite_new_customer(merchant, event) -> bool:
    """C-5: with both credential emails switched on, a new customer is invited to set up."""
    if type_enabled(merchant, "credential_create") and type_enabled(merchant, "password_reset"):
        return enrolment.send_create(merchant, _customer(event))
    return False


@subscriber("credentials.create_requested")
def credential_create(merchant, event, *, link: str):
    return _queue(merchant, "credential_create", _customer(event),
                  {"portal_link": enrolment.entry_link(merchant, "/"), "create_link": link},
                  secret=("create_link",))


@subscriber("credentials.reset_requested")
def password_reset(merchant, event, *, link: str):
    return _queue(merchant, "password_reset", _customer(event),
                  {"portal_link": enrolment.entry_link(merchant, "/"), "reset_link": link},
                  secret=("reset_link",))


@subscriber("credentials.temporary_password")
def temporary_password(merchant, event, *, password: str):
    return _queue(merchant, "temporary_password", _customer(event), {
        "portal_link": enrolment.entry_link(merchant, "/login"),  # the merchant's portal page
        "temporary_password": password}, secret=("temporary_password",))


@subscriber("customer.invited")
def invitation(merchant, event, *, link: str, subject: str, body: str, reply_to: str):
    return _queue(merchant, "invitation", _customer(event), {"portal_link": link},
                  subject=subject, body=body, reply_to=reply_to,
                  secret=("portal_link",))  # carries a raw token unless already signed up


@subscriber("invoice.issued")
def invoice_issued(merchant, event):
    invoice = db.session.get(Invoice, event.payload["invoice_id"])
    return _queue(merchant, "invoice_issued", _customer(event), {
        "portal_link": enrolment.entry_link(merchant, "/"),
        "invoice_number": invoice.number,
        # what is still to pay: account credit may already have paid part or all of it
        "amount": format_money(invoice.balance_minor, invoice.currency, merchant.locale),
        "due_date": format_date(invoice.due_date, format="medium", locale=merchant.locale),
        "pay_link": pay_link(merchant, invoice)})


@subscriber("payment.succeeded")
def payment_receipt(merchant, event):
    payment = db.session.get(Payment, event.payload["payment_id"])
    return _queue(merchant, "payment_receipt", _customer(event), {
        "portal_link": enrolment.entry_link(merchant, "/"),
        "amount": format_money(payment.amount_minor, payment.currency, merchant.locale),
        "payment_date": format_date(merchant.local_date(utcnow()), format="medium",
                                    locale=merchant.locale),
        # the token keeps its name (merchants' templates use it); its value is the number a
        # person can quote, never the gateway's reference (`sbx_c:…`, `pi_…`) (#20, W-12)
        "reference": payment.receipt_number})


@subscriber("payment.failed")
def payment_failed(merchant, event):
    """Only for a payment nobody watched fail (scheduled or autopay): the payer of a payment
    made on the page sees the failure there."""
    payment = db.session.get(Payment, event.payload["payment_id"])
    if not (payment.plan or {}).get("off_session"):
        return []
    return _queue(merchant, "payment_failed", _customer(event), {
        "portal_link": enrolment.entry_link(merchant, "/"),
        "amount": format_money(payment.amount_minor, payment.currency, merchant.locale),
        "payment_date": format_date(payment.scheduled_for or merchant.local_date(utcnow()),
                                    format="medium", locale=merchant.locale),
        "reason": payment.failure_message or "the payment was declined."})


PERIODS = {"day": ("day", "days"), "week": ("week", "weeks"), "month": ("month", "months"),
           "year": ("year", "years")}


def billing_period(interval: str | None, count: int) -> str:
    """How often an order is billed, as the default texts say it: "every month", "once"."""
    if interval not in PERIODS:
        return "once"
    one, many = PERIODS[interval]
    return f"every {one}" if count == 1 else f"every {count} {many}"


@subscriber("order.created")
def order_confirmation(merchant, event):
    order = db.session.get(Order, event.payload["order_id"])
    return _queue(merchant, "order_confirmation", _customer(event), {
        "portal_link": enrolment.entry_link(merchant, "/orders"),
        "order_number": order.number,
        "items": ", ".join(line.description if line.quantity == 1
                           else f"{line.quantity} × {line.description}"
                           for line in order.lines),
        "amount": format_money(order.total_minor, order.currency, merchant.locale),
        "billing_period": billing_period(order.interval, order.interval_count),
        "start_date": format_date(order.start_date, format="medium", locale=merchant.locale)})


@subscriber("order.cancelled")
def order_cancelled(merchant, event):
    order = db.session.get(Order, event.payload["order_id"])
    return _queue(merchant, "order_cancelled", _customer(event), {
        "portal_link": enrolment.entry_link(merchant, "/orders"),
        "order_number": order.number,
        "end_date": format_date(order.end_date or merchant.local_date(utcnow()),
                                format="medium", locale=merchant.locale)})
