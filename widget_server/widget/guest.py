"""Guest invoice payment (W-5): a "Pay invoice" link opens that invoice's payment page without
sign-in when the merchant allows it (or goes straight there with Skip the login screen).

The signed link is the proof: it names one payable invoice of this merchant, and the payment
belongs to that invoice's own customer, never to a new customer record. A guest pays the
invoice's balance with a new card or bank account (nothing is kept on file) and may ask for a
link to create a login, sent to the customer's own addresses. Posts are rate-limited per client
address and per invoice, as guest card forms attract card testing.
"""

from flask import g, request, session, url_for
from wtforms import BooleanField

from ..billing import checkout, issuing, payment_history
from ..core.domain import DomainError
from ..core.extensions import db, limiter
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..customers import enrolment
from ..customers.models import Customer
from ..web.form_fields import select_choices, show_errors
from . import bp
from .pay_links import AFTER_LOGIN, pay_link_closed
from .payments import (
    NewMethodForm,
    browser,
    method_choices,
    new_method,
    payment_result,
    stripe_fields,
    unavailable,
)
from .rendering import merchant_today, render_widget

GUEST_LIMIT = "10 per minute;30 per hour"
INVOICE_LIMIT = "10 per hour"


class GuestPayForm(NewMethodForm):
    enrol = BooleanField(_l("Email me a link to create a login for this account (if it has "
                            "none yet)"))


def _invoice_key() -> str:
    return f"guest-pay:{g.get('merchant_slug')}:{request.view_args.get('token', '')[:120]}"


@bp.route("/guest/pay/<token>", methods=["GET", "POST"])
@limiter.limit(GUEST_LIMIT, methods=["POST"])
@limiter.limit(INVOICE_LIMIT, methods=["POST"], key_func=_invoice_key)
def guest_pay(token: str):
    invoice = issuing.invoice_for_pay_token(g.merchant, token)
    if invoice is None or invoice.balance_minor <= 0:
        return pay_link_closed(token)
    rules = g.profile.payment
    customer = db.session.get(Customer, invoice.customer_id)
    stripe = stripe_fields(rules)
    form = GuestPayForm()
    form.method.choices = select_choices(method_choices(rules, stripe))
    if request.method == "GET":
        form.method.data = form.method.choices[0].value
    error, closed, status = None, unavailable(), 400
    closed_status = 503
    if closed is None and invoice.payment_claim_id is not None:
        closed_status, closed = 200, _("A payment for this invoice is being processed. "
                                        "Nothing more is needed now; the receipt follows "
                                        "by email.")
    if closed is None and form.validate_on_submit():
        key = form.attempt_key()
        earlier = payment_history.find_attempt(g.merchant, customer, key)
        if earlier is not None:
            return payment_result(earlier, retry_url=request.path)
        try:
            payment = checkout.submit(g.merchant, customer, rules, checkout.PaymentRequest(
                idempotency_key=key, invoice_ids=(invoice.id,), source="guest",
                method=new_method(form, form.method.data, rules, customer),
                client=browser(), rules_seen=form.rules_version.data or ""), merchant_today())
        except DomainError as exc:
            error, status = " ".join(show_errors(form, exc)) or None, exc.status
        else:
            if (form.enrol.data and payment.status != "failed"
                    and not customer.password_hash):
                enrolment.send_create(g.merchant, customer)
            return payment_result(payment, retry_url=request.path)
    form.prepare(rules)
    session[AFTER_LOGIN] = url_for(".pay", token=token)  # "Sign in instead" comes back here
    return render_widget("widget/guest_pay.html", form=form, rules=rules, invoice=invoice,
                         error=error, closed=closed, stripe=stripe,
                         due_minor=invoice.balance_minor,
                         status=closed_status if closed else
                         status if (form.errors or error) else 200)
