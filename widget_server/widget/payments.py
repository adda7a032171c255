"""Paying in the widget (W-3, P-2): by the profile's rules, enforced here on the server."""
import secrets
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from flask import g, request
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField
from wtforms.validators import Length, Optional

from ..billing import payments
from ..billing.gateways import TokenizeError, tokenize_ach, tokenize_card
from ..form_fields import select_choices
from ..money import to_minor
from . import bp
from .access import customer_required, profile_allows
from .rendering import merchant_today, render_widget

METHOD_LABELS = {"card": "Credit card", "ach": "Bank account (ACH)"}


class PayForm(FlaskForm):
    idempotency_key = HiddenField()
    amount = StringField("Amount", validators=[Optional(), Length(max=20)],
                         render_kw={"inputmode": "decimal", "autocomplete": "off"})
    method = RadioField("Pay with")
    card_number = StringField("Card number", validators=[Optional(), Length(max=30)],
                              render_kw={"autocomplete": "cc-number", "inputmode": "numeric"})
    expiry = StringField("Expiry (MM/YY)", validators=[Optional(), Length(max=7)],
                         render_kw={"autocomplete": "cc-exp", "placeholder": "MM/YY"})
    cvc = StringField("Security code", validators=[Optional(), Length(max=4)],
                      render_kw={"autocomplete": "cc-csc", "inputmode": "numeric"})
    routing_number = StringField("Routing number", validators=[Optional(), Length(max=9)],
                                 render_kw={"inputmode": "numeric"})
    account_number = StringField("Account number", validators=[Optional(), Length(max=17)],
                                 render_kw={"inputmode": "numeric"})


def _success_target(outcome: str) -> str | None:
    url = g.profile.payment.success_url
    if not url:
        return None
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}{urlencode({'payment': outcome})}"


def _result(payment):
    outcome = {"succeeded": "succeeded", "failed": "failed"}.get(payment.status, "pending")
    g.widget_event = f"payment-{outcome}" if outcome != "pending" else None
    return render_widget("widget/paid.html", payment=payment, outcome=outcome,
                         navigate=_success_target(outcome),
                         status=402 if outcome == "failed" else 200)


@bp.route("/pay", methods=["GET", "POST"])
@customer_required
@profile_allows("payment", "allow_payments")
def pay_invoices():
    rules = g.profile.payment
    form = PayForm()
    form.method.choices = select_choices((m, METHOD_LABELS[m]) for m in rules.payment_methods)
    if request.method == "GET":
        form.idempotency_key.data = secrets.token_urlsafe(24)
        form.method.data = rules.payment_methods[0]
    error = None
    if form.validate_on_submit():
        key = (form.idempotency_key.data or "")[:64] or secrets.token_urlsafe(24)
        earlier = payments.find_attempt(g.merchant, g.customer, key)
        if earlier is not None:  # the same attempt again (double click, reload): no new charge
            return _result(earlier)
        try:
            amount = None
            if rules.payment_amount == "any" and (form.amount.data or "").strip():
                try:
                    amount = to_minor(Decimal(form.amount.data.replace(",", ".").strip()),
                                      g.merchant.currency)
                except (InvalidOperation, ValueError):
                    raise payments.PaymentError("Enter an amount such as 25.00.",
                                                "amount") from None
            ids = [int(v) for v in request.form.getlist("invoice")
                   if v.isascii() and v.isdecimal() and len(v) < 19]
            chosen, total = payments.plan(g.merchant, g.customer, rules, ids, amount)
            if form.method.data == "card":
                method = tokenize_card(form.card_number.data, form.expiry.data, form.cvc.data,
                                       merchant_today())
            else:
                method = tokenize_ach(form.routing_number.data, form.account_number.data)
            payment = payments.pay(g.merchant, g.customer, chosen, total,
                                   method=form.method.data, token=method.token,
                                   label=method.label, idempotency_key=key)
        except (payments.PaymentError, TokenizeError) as exc:
            field = getattr(exc, "field", None)
            if field in form:
                form[field].errors = [*form[field].errors, str(exc)]
            else:
                error = str(exc)
        else:
            return _result(payment)
    return render_widget("widget/pay.html", form=form, rules=rules, error=error,
                         invoices=payments.outstanding(g.merchant, g.customer),
                         selected=set(request.values.getlist("invoice")),
                         status=400 if (form.errors or error) else 200)
