"""Paying in the widget (W-3, P-2): by the profile's rules, enforced here on the server (P-8):
a form loaded before a switch was turned off is refused like one crafted by hand."""
import secrets
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from flask import current_app, g, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField
from wtforms.validators import Length, Optional

from ..billing import (
    allocation,
    checkout,
    claims,
    methods,
    payment_history,
    schedules,
)
from ..billing import invoices as billing_invoices
from ..billing.gateways import (
    GatewayUnavailable,
    MethodToken,
    tokenize_ach,
    tokenize_card,
)
from ..billing.providers import gateway_for
from ..core.domain import DomainError
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.i18n import widget_formatting_locale
from ..core.money import pattern as money_pattern
from ..core.money import to_minor
from ..web.form_fields import LocalDateField, TrimmedField, select_choices, show_errors
from . import bp
from .rendering import merchant_today, render_widget, widget_event

METHOD_LABELS = {"card": _l("New credit card"), "ach": _l("New bank account (ACH)")}
SAVED = "saved-"
NEW = "new"  # Stripe mode: one Payment Element takes a new card or bank account
# Stripe mode only, on the pages with Stripe's fields: its script, its frames, its API.
STRIPE_CSP = {"script-src": "https://js.stripe.com",
              "frame-src": "https://js.stripe.com https://hooks.stripe.com",
              "connect-src": "https://api.stripe.com"}


class NewMethodForm(FlaskForm):
    """What every pay page has: the attempt's idempotency key, the method, and the fields of a
    new card or bank account (sandbox) or the pm_… id Stripe.js made (Stripe mode)."""

    idempotency_key = HiddenField()
    method = RadioField(_l("Pay with"))
    card_number = TrimmedField(_l("Card number"), validators=[Optional(), Length(max=30)],
                               render_kw={"autocomplete": "cc-number", "inputmode": "numeric"})
    expiry = TrimmedField(_l("Expiry (MM/YY)"), validators=[Optional(), Length(max=7)],
                          render_kw={"autocomplete": "cc-exp", "placeholder": _l("MM/YY")})
    cvc = TrimmedField(_l("Security code"), validators=[Optional(), Length(max=4)],
                       render_kw={"autocomplete": "cc-csc", "inputmode": "numeric"})
    routing_number = TrimmedField(_l("Routing number"), validators=[Optional(), Length(max=9)],
                                  render_kw={"inputmode": "numeric"})
    account_number = TrimmedField(_l("Account number"), validators=[Optional(), Length(max=17)],
                                  render_kw={"inputmode": "numeric"})
    payment_method_id = HiddenField()
    # The Payment tab as the page showed it: a post made under other rules is sent back for
    # review rather than charged by rules the customer never saw (P-8).
    rules_version = HiddenField()

    def prepare(self, rules) -> None:
        """A fresh attempt on GET; the page always carries the rules it shows; on a re-shown
        form, the typed card numbers are not echoed."""
        if request.method == "GET":
            self.idempotency_key.data = secrets.token_urlsafe(24)
        self.rules_version.data = checkout.rules_fingerprint(rules)
        for name in ("card_number", "cvc", "account_number"):
            getattr(self, name).data = ""

    def attempt_key(self) -> str:
        """The attempt's idempotency key, marked as the browser's ("c:") so it can never be one
        of the server's own keys (autopay)."""
        return "c:" + ((self.idempotency_key.data or "")[:60] or secrets.token_urlsafe(24))



class PayForm(NewMethodForm):
    amount = TrimmedField(_l("Amount"), validators=[Optional(), Length(max=20)],
                          render_kw={"inputmode": "decimal", "autocomplete": "off"})
    # typed in the merchant's date format, not the browser's (issue #20)
    payment_date = LocalDateField(_l("Payment date"), validators=[Optional()],
                                  locale=lambda: g.merchant.locale,
                                  render_kw={"autocomplete": "off"})
    # The total the page showed, in minor units (#20, W-12): a Pay post whose total is not the
    # one about to be charged is shown again for review, never charged.
    total_shown = HiddenField()
    save_method = BooleanField(_l("Save this payment method for future payments"))
    autopay = BooleanField(_l("Pay future invoices automatically with it on their due "
                              "date (autopay)"))


def _success_target(outcome: str) -> str | None:
    url = g.profile.payment.success_url
    if not url:
        return None
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}{urlencode({'payment': outcome})}"


def payment_result(payment, retry_url: str | None = None):
    """The page after a payment: its outcome, the widget event and the Success URL (E-6)."""
    # Imported here: this change stays inside this function (issue #18; the rest of the file
    # is being rewritten).
    from ..core.extensions import db
    from ..customers.models import Customer
    from ..notifications.outbox import type_enabled

    outcome = {"succeeded": "succeeded", "failed": "failed",
               "scheduled": "scheduled"}.get(payment.status, "pending")
    g.widget_event = (payment_event(payment, f"payment-{outcome}")
                      if outcome in ("succeeded", "failed") else None)
    # A receipt is promised only when one is sent: the Payment Receipt email switched on (N-2)
    # and an address to send it to (C-2). The payer may be a guest: ask the payment's customer.
    receipt_emailed = (outcome == "succeeded" and type_enabled(g.merchant, "payment_receipt")
                       and bool(db.session.get(Customer, payment.customer_id).primary_emails))
    # what it paid (succeeded) or is for (scheduled, pending): no thank-you without the what
    paid = payment_history.allocations_of(payment) if outcome == "succeeded" else []
    planned = ([] if paid else
               [i.number for i in allocation.planned_invoices(g.merchant, payment)])
    return render_widget("widget/paid.html", payment=payment, outcome=outcome,
                         receipt_emailed=receipt_emailed, paid=paid, planned=planned,
                         retry_url=retry_url or url_for(  # the same invoices ticked again
                             ".pay_invoices", invoice=(payment.plan or {}).get("invoice_ids")),
                         navigate=_success_target(outcome) if g.widget_event else None,
                         status=402 if outcome == "failed" else 200)


def payment_event(payment, type_: str) -> dict:
    """payment-succeeded / payment-failed for the host page (issue #20-6): which payment, how
    much, and the invoices it was for (those it paid, else those the customer chose)."""
    from sqlalchemy import select

    from ..billing.models import Invoice
    from ..core.extensions import db
    from ..core.money import from_minor

    ids = [a.invoice_id for a in payment.allocations] or [
        int(i) for i in (payment.plan or {}).get("invoice_ids") or []]
    numbers = dict(db.session.execute(
        select(Invoice.id, Invoice.number).where(Invoice.id.in_(ids),
                                                 Invoice.merchant_id == payment.merchant_id))
        .all()) if ids else {}
    return widget_event(
        type_, payment_id=payment.id, status=payment.status,
        amount=str(from_minor(payment.amount_minor, payment.currency)),
        amount_minor=payment.amount_minor, currency=payment.currency,
        invoices=[{"id": i, "number": numbers[i]} for i in dict.fromkeys(ids) if i in numbers])


def parse_amount(raw: str) -> int:
    try:
        return to_minor(Decimal(raw.replace(",", ".").strip()), g.merchant.currency)
    except (InvalidOperation, ArithmeticError, ValueError):
        raise DomainError(_("Enter an amount such as 25.00."), "amount") from None


def stripe_fields(rules) -> dict | None:
    """Stripe.js settings for a page that takes a new method, in Stripe mode (else None). The
    page's CSP then admits Stripe's script, frames and API, and nothing else."""
    if current_app.config.get("PAYMENT_GATEWAY") != "stripe":
        return None
    g.csp_extra = STRIPE_CSP
    return {"key": current_app.config.get("STRIPE_PUBLISHABLE_KEY", ""),
            "account": g.merchant.stripe_account_id or "",
            "currency": g.merchant.currency.lower(),
            "methods": " ".join({"card": "card", "ach": "us_bank_account"}[m]
                                for m in rules.payment_methods)}


def saved_choices(saved) -> list[tuple[str, str]]:
    """The customer's kept methods as choices, in their words ("Karte •••• 4242 (läuft ab …)")."""
    choices = []
    for m in saved:
        label = payment_history.label_words(m.label)
        choices.append((f"{SAVED}{m.id}", _("%(method)s (expires %(date)s)", method=label,
                                            date=m.expires) if m.expires else label))
    return choices


def method_choices(rules, stripe) -> list[tuple[str, str]]:
    if stripe:
        return [(NEW, _("New card or bank account") if len(rules.payment_methods) > 1
                 else METHOD_LABELS[rules.payment_methods[0]])]
    return [(m, METHOD_LABELS[m]) for m in rules.payment_methods]


def new_method(form, kind: str, rules, customer) -> MethodToken:
    """The new method of the form: in Stripe mode the pm_… Stripe.js made (described by
    Stripe); in the sandbox, the typed card or account,
    tokenised here and kept no further."""
    if kind == NEW:
        return gateway_for(g.merchant).describe(  # whether the profile takes it: checkout
            form.payment_method_id.data or "", customer_ref=customer.gateway_customer_ref)
    if kind == "card":
        return tokenize_card(form.card_number.data, form.expiry.data, form.cvc.data,
                             merchant_today())
    return tokenize_ach(form.routing_number.data, form.account_number.data)


def browser() -> dict:
    """The customer's browser, for a bank debit mandate accepted online."""
    return {"ip": (request.remote_addr or "")[:64],
            "user_agent": (request.user_agent.string or "")[:300]}


def unavailable() -> str | None:
    """Why payments cannot be taken now (not set up), shown instead of the form."""
    try:
        gateway_for(g.merchant)
    except GatewayUnavailable as exc:
        return str(exc)
    return None


def _not_shown(rules) -> frozenset:
    """Fields the Pay page leaves out under these rules: a refusal about one of them (a
    crafted amount, say) is said at the top of the page."""
    return frozenset(
        (["amount"] if rules.payment_amount != "any" else [])
        + (["payment_date"] if not rules.edit_effective_date else [])
        + (["save_method", "autopay"] if rules.card_ach_mode != "optional_save" else []))


def _payment_request(form: PayForm, rules, saved) -> checkout.PaymentRequest:
    """The Pay form as a typed request; the checkout service judges it. A crafted amount or
    invoice list arrives as sent, so a rule that refuses it can say so (P-8)."""
    using = next((m.id for m in saved if f"{SAVED}{m.id}" == form.method.data), None)
    raw_amount = (form.amount.data or "").strip()
    return checkout.PaymentRequest(
        idempotency_key=form.attempt_key(),
        invoice_ids=tuple(int(v) for v in request.form.getlist("invoice")
                          if v.isascii() and v.isdecimal() and len(v) < 12),
        amount_minor=parse_amount(raw_amount) if raw_amount else None,
        saved_method_id=using,
        method=None if using is not None else new_method(form, form.method.data, rules,
                                                          g.customer),
        payment_date=form.payment_date.data, save=bool(form.save_method.data),
        autopay=bool(form.autopay.data), client=browser(),
        rules_seen=form.rules_version.data or "")


def _asked(form: PayForm | None = None) -> checkout.PaymentRequest:
    """The invoices and amount of the form (or the page's query), for a quote: no method."""
    raw_amount = (form.amount.data or "").strip() if form is not None else ""
    return checkout.PaymentRequest(
        idempotency_key="",
        invoice_ids=tuple(int(v) for v in request.values.getlist("invoice")
                          if v.isascii() and v.isdecimal() and len(v) < 12),
        amount_minor=parse_amount(raw_amount) if raw_amount else None,
        rules_seen=(form.rules_version.data or "") if form is not None else None)


def _quote(rules, form: PayForm | None = None) -> int | None:
    """The total the request would charge now, or None while there is none (nothing chosen,
    an amount not understood): then the page offers Review, not Pay."""
    try:
        asked = _asked(form)
        if form is None and rules.invoice_choice != "select":  # a link naming an invoice
            asked = checkout.PaymentRequest(idempotency_key="")  # pays all of them here
        return checkout.quote(g.merchant, g.customer, rules, asked)[1]
    except DomainError:
        return None


@bp.route("/pay", methods=["GET", "POST"])
def pay_invoices():
    rules = g.profile.payment
    saved = (methods.on_file(g.merchant, g.customer, rules.payment_methods)
             if rules.card_ach_mode != "no_save" else [])
    stripe = stripe_fields(rules)
    form = PayForm()
    form.method.choices = select_choices(
        saved_choices(saved) + method_choices(rules, stripe))
    today = merchant_today()
    if request.method == "GET":
        form.method.data = form.method.choices[0].value
        form.payment_date.data = today
    error, closed, status, review = None, unavailable(), 200, None
    if closed is None and form.validate_on_submit():
        earlier = payment_history.find_attempt(g.merchant, g.customer, form.attempt_key())
        if earlier is not None:  # the same attempt again (double click, reload): no new charge
            return payment_result(earlier)
        try:
            # what would be charged, by the code that charges (#20): Review shows it; a Pay
            # post that showed another total is shown again, never charged
            total = checkout.quote(g.merchant, g.customer, rules, _asked(form))[1]
            shown = (form.total_shown.data or "").strip()
            if "review" in request.form:
                review = "reviewed"
            elif shown and shown != str(total):
                review = "changed"
            else:
                payment = checkout.submit(g.merchant, g.customer, rules,
                                          _payment_request(form, rules, saved), today)
        except DomainError as exc:
            error = " ".join(show_errors(form, exc, hidden=_not_shown(rules))) or None
            status = exc.status
        else:
            if review is None:
                return payment_result(payment)
    form.prepare(rules)
    total = _quote(rules, form if request.method == "POST" else None)
    form.total_shown.data = "" if total is None else str(total)
    invoices = billing_invoices.outstanding(g.merchant, g.customer)
    busy = claims.in_progress(invoices)
    return render_widget("widget/pay.html", form=form, rules=rules, error=error, busy=busy,
                         scheduled=schedules.by_invoice(g.merchant, g.customer),
                         closed=closed, invoices=invoices, stripe=stripe,
                         due_minor=sum(i.balance_minor for i in invoices if i.id not in busy),
                         selected=set(request.values.getlist("invoice")), today=today,
                         total=total, review=review,
                         money_pattern=money_pattern(g.merchant.currency,
                                                       widget_formatting_locale(g.merchant)),
                         status=503 if closed else
                         max(status, 400) if (form.errors or error) else 200)
