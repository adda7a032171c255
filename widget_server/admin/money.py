"""Money going back, and money received outside the portal, in the admin (#24 item 3, T-7):
a payment's page with its refunds and the refund form; on an invoice's page its payments,
credit notes and the credit note form, void behind a confirmation; recording an offline
payment (bank transfer, cheque, cash) against a customer's open invoices. Every change is a
`billing` service's; this face parses, calls, and shows the refusal next to its field."""
import secrets
from decimal import Decimal

from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..billing import credit_notes, payment_history, payments, pdf, refunds
from ..billing import invoices as billing
from ..billing.gateways import GatewayUnavailable
from ..billing.models import OFFLINE_METHODS
from ..core.domain import DomainError
from ..core.money import exponent, to_minor
from ..customers import services as customer_services
from ..tenancy import audit
from ..tenancy.permissions import Permission
from ..web.form_fields import LocalDateField, TrimmedField, select_choices, show_errors
from . import bp
from .access import current_merchant, permission_required

BILLING = Permission.MANAGE_BILLING


def parse_amount(form_field, currency: str, locale: str) -> int | None:
    """The amount typed in the merchant's locale (de_DE "12,50", en_US "12.50") in minor
    units; empty is None; anything else puts a message on the field and gives None."""
    text = (form_field.data or "").strip()
    if not text:
        return None
    try:
        value = parse_decimal(text, locale=locale, strict=True)
        if value != value.quantize(Decimal(1).scaleb(-exponent(currency))):
            # "12,345 €": a cent more or less is the merchant's to say, not ours to round
            raise ValueError("more decimals than the currency has")
        return to_minor(value, currency)
    except (NumberFormatError, ValueError, ArithmeticError):
        example = format_decimal(Decimal("12.50"), format="0.00", locale=locale)
        form_field.errors = [*form_field.errors, f"Enter an amount such as {example}."]
        return None


class KeyedForm(FlaskForm):
    """A form whose submission is one attempt: its key makes a double submit one change."""

    key = HiddenField()

    def attempt_key(self, prefix: str) -> str:
        return f"{prefix}:{(self.key.data or '')[:50] or secrets.token_urlsafe(24)}"

    def fresh(self):
        if request.method == "GET" or not self.key.data:
            self.key.data = secrets.token_urlsafe(24)
        return self


class RefundForm(KeyedForm):
    amount = TrimmedField("Amount to refund", validators=[Optional(), Length(max=20)],
                          description="Empty: everything still refundable.",
                          render_kw={"inputmode": "decimal", "autocomplete": "off"})
    reason = TrimmedField("Reason", validators=[Optional(), Length(max=300)],
                          description="For your records; sent to the payment provider too.")


class CreditNoteForm(KeyedForm):
    amount = TrimmedField("Amount to credit (tax included)",
                          validators=[Optional(), Length(max=20)],
                          description="Empty: everything not yet credited. What exceeds the "
                                      "balance becomes the customer's account credit.",
                          render_kw={"inputmode": "decimal", "autocomplete": "off"})
    reason = TrimmedField("Reason", validators=[InputRequired("Say why the invoice is "
                                                              "credited; the customer reads "
                                                              "it."), Length(max=300)])


class OfflinePaymentForm(KeyedForm):
    method = SelectField("Received by", choices=select_choices(OFFLINE_METHODS.items()))
    amount = TrimmedField("Amount received", validators=[InputRequired("Enter the amount "
                                                                       "received."),
                                                         Length(max=20)],
                          render_kw={"inputmode": "decimal", "autocomplete": "off"})
    reference = TrimmedField("Reference", validators=[Optional(), Length(max=100)],
                             description="The transfer's reference or the cheque's number.")
    received_on = LocalDateField("Received on", validators=[InputRequired("Enter the day the "
                                                                          "money arrived.")],
                                 locale=lambda: current_merchant().locale,
                                 render_kw={"autocomplete": "off"})
    invoices = SelectMultipleField("Pays invoices", coerce=int, validators=[Optional()],
                                   validate_choice=False,  # the view checks them (open ones)
                                   option_widget=CheckboxInput(), widget=ListWidget(
                                       prefix_label=False),
                                   description="The oldest due first; whatever is left over "
                                               "becomes account credit.")


def _attempt(form, currency: str, call):
    """Parse the form's amount (empty: None) and call the service with it: its result, or
    None with the refusal shown next to its field (the change rolled back)."""
    amount = parse_amount(form.amount, currency, current_merchant().locale)
    if form.errors or form.amount.errors:
        return None
    try:
        return call(amount)
    except DomainError as exc:
        for message in show_errors(form, exc, default="amount"):
            flash(message, "error")
    return None


# --- payments and refunds -------------------------------------------------------------------

def _payment_or_404(payment_id: int):
    return payment_history.of_merchant(current_merchant(), payment_id) or abort(404)


def _payment_page(payment, form, status=200):
    merchant = current_merchant()
    return render_template(
        "admin/money/payment.html", payment=payment, form=form.fresh(),
        customer=customer_services.get_customer(merchant, payment.customer_id, merged=True),
        refunds=refunds.of_payment(merchant, payment.id), local_date=merchant.local_date,
        paid=payment_history.paid_invoices(payment)), status


@bp.get("/payments/<id:payment_id>")
@permission_required(BILLING)
def payment_detail(payment_id: int):
    return _payment_page(_payment_or_404(payment_id), RefundForm(formdata=None))


@bp.post("/payments/<id:payment_id>/refund")
@permission_required(BILLING)
def payment_refund(payment_id: int):
    merchant = current_merchant()
    payment = _payment_or_404(payment_id)
    form = RefundForm()
    valid = form.validate_on_submit()
    if not valid and (not form.csrf_token.data or form.csrf_token.errors):
        abort(400)
    row = valid and _attempt(form, payment.currency, lambda amount: refunds.refund(
        merchant, payment, amount, reason=form.reason.data or "",
        idempotency_key=form.attempt_key("r")))
    if row:
        audit.record(merchant, current_user, "payment.refunded",
                     audit.subject_of("payment", payment.id), label=payment.receipt_number,
                     refund_id=row.id,
                     number=row.number, amount_minor=row.amount_minor, status=row.status,
                     reason=row.reason)
        _flash_refund(merchant, row)
        return redirect(url_for("admin.payment_detail", payment_id=payment.id))
    return _payment_page(_payment_or_404(payment_id), form, 400)


def _flash_refund(merchant, row) -> None:
    from .invoices import admin_money

    amount = admin_money(row.amount_minor, row.currency)
    if row.status == "succeeded":
        flash(f"Refund {row.number} of {amount} is done.", "success")
    elif row.status == "pending":
        flash(f"The refund of {amount} is under way: the payment provider has not answered "
              "yet. Check it again in a moment.", "warning")
    else:
        flash(f"The refund of {amount} failed: {row.failure_message}", "error")


@bp.post("/refunds/<id:refund_id>/check")
@permission_required(BILLING)
def refund_check(refund_id: int):
    """Ask the provider again about a refund that had no answer (same key: refunded once)."""
    merchant = current_merchant()
    row = refunds.get(merchant, refund_id) or abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        _flash_refund(merchant, refunds.resolve(merchant, row))
    except GatewayUnavailable as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin.payment_detail", payment_id=row.payment_id))


# --- invoices: credit notes and void -----------------------------------------------------------

@bp.app_template_global("invoice_money")
def invoice_money(invoice) -> dict:
    """What the invoice page shows under the invoice (#24): what paid it, its credit notes,
    and the credit note form."""
    merchant = current_merchant()
    return {"paid_by": payment_history.paying(merchant, invoice.id),
            "credit_notes": credit_notes.of_invoice(merchant, invoice.id),
            "form": CreditNoteForm(formdata=None).fresh()}


@bp.route("/invoices/<id:invoice_id>/credit-notes", methods=["GET", "POST"])
@permission_required(BILLING)
def credit_note_new(invoice_id: int):
    merchant = current_merchant()
    invoice = billing.get_invoice(merchant, invoice_id) or abort(404)
    form = CreditNoteForm()
    note = form.validate_on_submit() and _attempt(
        form, invoice.currency, lambda amount: credit_notes.issue(
            merchant, invoice, amount, reason=form.reason.data,
            idempotency_key=form.attempt_key("cn"), today=merchant.today()))
    if note:
        audit.record(merchant, current_user, "credit_note.issued",
                     audit.subject_of("invoice", invoice.id), label=invoice.number,
                     credit_note_id=note.id,
                     number=note.number, amount_minor=note.amount_minor,
                     credit_minor=note.credit_minor, reason=note.reason)
        from .invoices import admin_money

        rest = (f"; {admin_money(note.credit_minor, note.currency)} became account credit"
                if note.credit_minor else "")
        flash(f"Credit note {note.number} of {admin_money(note.amount_minor, note.currency)} "
              f"is issued{rest}. The customer is emailed.", "success")
        return redirect(url_for("admin.invoice_detail", invoice_id=invoice.id))
    invoice = billing.get_invoice(merchant, invoice_id)
    return render_template("admin/money/credit_note.html", invoice=invoice, form=form.fresh(),
                           customer=customer_services.get_customer(
                               merchant, invoice.customer_id, merged=True)), \
        400 if request.method == "POST" else 200


@bp.get("/credit-notes/<id:note_id>.pdf")
@permission_required(BILLING)
def credit_note_pdf(note_id: int):
    merchant = current_merchant()
    note = credit_notes.get(merchant, note_id) or abort(404)
    customer = customer_services.get_customer(merchant, note.customer_id, merged=True)
    return Response(pdf.render_credit_note(merchant, customer, note),
                    mimetype="application/pdf", headers={
                        "Content-Disposition": f'attachment; filename="{note.number}.pdf"'})


@bp.get("/invoices/<id:invoice_id>/void")
@permission_required(BILLING)
def invoice_void_confirm(invoice_id: int):
    """Void asks first: the page says what voiding does and posts to the invoice's action."""
    merchant = current_merchant()
    invoice = billing.get_invoice(merchant, invoice_id) or abort(404)
    return render_template("admin/money/void.html", invoice=invoice, form=FlaskForm())


# --- offline payments -----------------------------------------------------------------------

@bp.route("/customers/<id:customer_id>/payments/new", methods=["GET", "POST"])
@permission_required(BILLING)
def offline_payment_new(customer_id: int):
    merchant = current_merchant()
    customer = customer_services.get_customer(merchant, customer_id) or abort(404)
    open_invoices = billing.outstanding(merchant, customer)
    form = OfflinePaymentForm()
    form.invoices.choices = [(i.id, i.number) for i in open_invoices]
    if request.method == "GET":
        form.received_on.data = merchant.today()
        wanted = request.args.getlist("invoice", type=int)
        form.invoices.data = [i.id for i in open_invoices if i.id in wanted]
    elif form.validate_on_submit():
        key = form.attempt_key("o")
        earlier = payment_history.find_attempt(merchant, customer, key)
        if earlier is not None:  # the same form again: recorded once
            return redirect(url_for("admin.payment_detail", payment_id=earlier.id))
        amount = parse_amount(form.amount, merchant.currency, merchant.locale)
        chosen = [i for i in open_invoices if i.id in set(form.invoices.data or [])]
        if len(chosen) != len(set(form.invoices.data or [])):
            form.invoices.errors = ["One of these invoices is no longer open; check them "
                                    "again."]
        elif amount is not None:
            try:
                payment = payments.record_offline(
                    merchant, customer, chosen, amount, method=form.method.data,
                    reference=form.reference.data or "", received_on=form.received_on.data,
                    idempotency_key=key)
            except DomainError as exc:
                for message in show_errors(form, exc, default="amount"):
                    flash(message, "error")
            else:
                audit.record(merchant, current_user, "payment.recorded",
                             audit.subject_of("payment", payment.id),
                             label=payment.receipt_number, method=payment.method,
                             amount_minor=payment.amount_minor, reference=payment.reference,
                             invoice_ids=[i.id for i in chosen])
                flash(f"Payment {payment.receipt_number} is recorded; the receipt is emailed.",
                      "success")
                return redirect(url_for("admin.payment_detail", payment_id=payment.id))
    return render_template("admin/money/offline_payment.html", form=form.fresh(),
                           customer=customer, invoices={i.id: i for i in open_invoices}), \
        400 if request.method == "POST" else 200
