"""The emails, as subscribers to the domain events that cause them (issue #18, N-1, N-2).

Each runs inside the transaction that records its event (`events.record`), so the queued
message commits or rolls back with the change. Each returns what it queued (an empty list when
the type is switched off or there is no address): callers that report "sent" read that from
`record`'s result. Secrets (links carrying a raw token, a temporary password) arrive as
transient keyword arguments and are never stored in the event; they are marked as the
message's secrets (`secret=`), masked in the delivery log and in the stored message once sent.

Languages (issue #20 item 5, B-5): each email is written in its customer's language
(`core.i18n.customer_language`: the one recorded from their last widget request, else the
merchant's), its amounts and dates formatted in that language with the merchant's territory
(`core.i18n.formatting_locale`).
"""
from babel.dates import format_date
from flask_babel import force_locale
from sqlalchemy import select

from ..billing import reasons
from ..billing.issuing import pay_link
from ..billing.models import CreditNote, Invoice, Payment
from ..commerce import periods
from ..commerce.models import Order
from ..commerce.proposal_models import Proposal
from ..core.database import utcnow
from ..core.events import subscriber
from ..core.extensions import db
from ..core.i18n import customer_language, formatting_locale
from ..core.i18n import gettext as _
from ..core.money import format_money
from ..customers import enrolment
from ..customers.models import Customer, EmailProof
from . import templates
from .outbox import queue_email, type_enabled


def _customer(event) -> Customer:
    return db.session.get(Customer, event.payload["customer_id"])


def _locale(merchant, customer: Customer) -> str:
    """The locale the customer's email writes its amounts and dates in."""
    return formatting_locale(customer_language(merchant, customer), merchant.locale or "en_US")


def _queue(merchant, email_type: str, customer: Customer, values: dict, *,
           subject: str | None = None, body: str | None = None, reply_to: str = "",
           secret: tuple[str, ...] = ()):
    """Render `email_type` for the customer, in their language, and queue it to their primary
    addresses; the values named in `secret` are the message's secrets."""
    content = templates.render(merchant, email_type,
                               {"contact_name": customer.contact_name, **values},
                               subject=subject, body=body,
                               language=customer_language(merchant, customer))
    return queue_email(merchant, email_type, customer.primary_emails, content,
                       reply_to=reply_to, secrets=tuple(values[key] for key in secret))


def _credential_emails_on(merchant) -> bool:
    return type_enabled(merchant, "credential_create") and type_enabled(merchant, "password_reset")


@subscriber("customer.created")
def invite_new_customer(merchant, event) -> bool:
    """C-5: with both credential emails switched on, a new customer is invited to set up; one
    made by a guest checkout, once it has bought (`offer_portal_after_first_purchase`)."""
    if event.payload.get("awaiting_purchase"):
        return False
    if _credential_emails_on(merchant):
        return enrolment.send_create(merchant, _customer(event))
    return False


@subscriber("order.paid")
def offer_portal_after_first_purchase(merchant, event) -> bool:
    """A guest's first paid order (#22, P-6): a customer without credentials is offered to set
    them up; never for a later order, never for an account."""
    customer = _customer(event)
    if customer.username or customer.password_hash or not _credential_emails_on(merchant):
        return False
    earlier = db.session.scalar(select(Order.id).where(
        Order.merchant_id == merchant.id, Order.customer_id == customer.id,
        Order.id != event.payload["order_id"]).limit(1))
    return False if earlier is not None else enrolment.send_create(merchant, customer)


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
    if event.payload.get("awaiting_payment"):
        return []  # a checkout's invoice, paid at once: its receipt says so, not "please pay"
    invoice = db.session.get(Invoice, event.payload["invoice_id"])
    customer = _customer(event)
    locale = _locale(merchant, customer)
    return _queue(merchant, "invoice_issued", customer, {
        "portal_link": enrolment.entry_link(merchant, "/"),
        "invoice_number": invoice.number,
        # what is still to pay: account credit may already have paid part or all of it
        "amount": format_money(invoice.balance_minor, invoice.currency, locale),
        "due_date": format_date(invoice.due_date, format="medium", locale=locale),
        "pay_link": pay_link(merchant, invoice)})


@subscriber("payment.succeeded")
def payment_receipt(merchant, event):
    payment = db.session.get(Payment, event.payload["payment_id"])
    customer = _customer(event)
    locale = _locale(merchant, customer)
    return _queue(merchant, "payment_receipt", customer, {
        "portal_link": enrolment.entry_link(merchant, "/"),
        "amount": format_money(payment.amount_minor, payment.currency, locale),
        "payment_date": format_date(payment.received_on or merchant.local_date(utcnow()),
                                    format="medium", locale=locale),
        # the token keeps its name (merchants' templates use it); its value is the number a
        # person can quote, never the gateway's reference (`sbx_c:…`, `pi_…`) (#20, W-12)
        "reference": payment.receipt_number})


@subscriber("credit_note.issued")
def credit_note_issued(merchant, event):
    """A credit note (#24): its number, amount, invoice and reason, and a link to its PDF in
    the portal (the payment history lists it)."""
    note = db.session.get(CreditNote, event.payload["credit_note_id"])
    customer = _customer(event)
    return _queue(merchant, "credit_note_issued", customer, {
        "portal_link": enrolment.entry_link(merchant, "/payments"),
        "credit_note_number": note.number, "invoice_number": note.invoice.number,
        "amount": format_money(note.amount_minor, note.currency, _locale(merchant, customer)),
        "reason": note.reason,
        "credit_note_link": enrolment.entry_link(merchant, f"/credit-notes/{note.id}.pdf")})


@subscriber("payment.failed")
def payment_failed(merchant, event):
    """Only for a payment nobody watched fail (scheduled or autopay): the payer of a payment
    made on the page sees the failure there."""
    payment = db.session.get(Payment, event.payload["payment_id"])
    if not (payment.plan or {}).get("off_session"):
        return []
    customer = _customer(event)
    locale = _locale(merchant, customer)
    with force_locale(customer_language(merchant, customer)):
        reason = reasons.shown(payment.failure_message) or _("the payment was declined.")
    return _queue(merchant, "payment_failed", customer, {
        "portal_link": enrolment.entry_link(merchant, "/"),
        "amount": format_money(payment.amount_minor, payment.currency, locale),
        "payment_date": format_date(payment.scheduled_for or merchant.local_date(utcnow()),
                                    format="medium", locale=locale),
        "reason": reason})


@subscriber("order.created")
@subscriber("order.paid")
def order_confirmation(merchant, event):
    """The order confirmation: when an order is placed, or for a checkout's order (placed
    awaiting its payment, which may be declined) once it is paid."""
    if event.payload.get("awaiting_payment"):
        return []
    order = db.session.get(Order, event.payload["order_id"])
    customer = _customer(event)
    locale = _locale(merchant, customer)
    with force_locale(customer_language(merchant, customer)):
        period = periods.in_words(order.interval, order.interval_count)
    return _queue(merchant, "order_confirmation", customer, {
        "portal_link": enrolment.entry_link(merchant, "/orders"),
        "order_number": order.number,
        "items": ", ".join(line.description if line.quantity == 1
                           else f"{line.quantity} × {line.description}"
                           for line in order.lines),
        "amount": format_money(order.total_minor, order.currency, locale),
        "billing_period": period,
        "start_date": format_date(order.start_date, format="medium", locale=locale)})


@subscriber("order.cancelled")
def order_cancelled(merchant, event):
    order = db.session.get(Order, event.payload["order_id"])
    customer = _customer(event)
    return _queue(merchant, "order_cancelled", customer, {
        "portal_link": enrolment.entry_link(merchant, "/orders"),
        "order_number": order.number,
        "end_date": format_date(order.end_date or merchant.local_date(utcnow()),
                                format="medium", locale=_locale(merchant, customer))})


@subscriber("proposal.sent")
def proposal_sent(merchant, event):
    """The Proposal Sent email (#23, W-9): its number, total, validity and a link to it in the
    portal, where the customer accepts or declines it."""
    proposal = db.session.get(Proposal, event.payload["proposal_id"])
    customer = _customer(event)
    locale = _locale(merchant, customer)
    return _queue(merchant, "proposal_sent", customer, {
        "portal_link": enrolment.entry_link(merchant, "/proposals"),
        "proposal_number": proposal.number,
        "amount": format_money(proposal.total_minor, proposal.currency, locale),
        "valid_until": format_date(proposal.valid_until, format="medium", locale=locale),
        "proposal_link": enrolment.entry_link(merchant, f"/proposals/{proposal.id}")})


@subscriber("checkout.code_requested")
def guest_checkout_code(merchant, event, *, code: str, language: str, valid_minutes: int):
    """A guest's checkout code (#22), to the address being proven, in the language of the
    visitor's request (there is no customer yet); the code is the message's secret."""
    proof = db.session.scalar(select(EmailProof).where(
        EmailProof.merchant_id == merchant.id, EmailProof.id == event.payload["proof_id"]))
    content = templates.render(merchant, "guest_checkout_code",
                               {"code": code, "valid_minutes": str(valid_minutes)},
                               language=language)
    return queue_email(merchant, "guest_checkout_code", [proof.email], content, secrets=(code,))


def _issue_message(event):
    from ..support.models import ServiceIssue, ServiceIssueMessage

    issue = db.session.get(ServiceIssue, event.payload["issue_id"])
    return issue, db.session.get(ServiceIssueMessage, event.payload["message_id"])


@subscriber("issue.answered")
def issue_reply(merchant, event):
    """An admin's reply in a service issue (#23), to the customer, with a link to the issue."""
    issue, message = _issue_message(event)
    return _queue(merchant, "issue_reply", _customer(event), {
        "portal_link": enrolment.entry_link(merchant, "/issues"),
        "issue_number": issue.number, "issue_subject": issue.subject,
        "message": message.body,
        "issue_link": enrolment.entry_link(merchant, f"/issues/{issue.id}")})


@subscriber("issue.customer_wrote")
def issue_customer_message(merchant, event):
    """A customer's message in a service issue (#23), to the assigned admin, else to every
    admin who manages customers; in English, the admin's language, with a link to the inbox."""
    from flask import current_app

    from ..support.services import recipients_for_merchant

    issue, message = _issue_message(event)
    customer = _customer(event)
    content = templates.render(merchant, "issue_customer_message", {
        "customer_name": customer.display_name, "issue_number": issue.number,
        "issue_subject": issue.subject, "message": message.body,
        "admin_link": f"{current_app.config['PUBLIC_URL']}/admin/issues/{issue.id}"})
    return queue_email(merchant, "issue_customer_message",
                       recipients_for_merchant(merchant, issue), content)
