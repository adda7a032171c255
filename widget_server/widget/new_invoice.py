"""Allow New Invoice (P-5): a customer raises an invoice from the merchant's catalogue, e.g. a
deposit or a one-off charge, and is taken to pay it. The invoice is issued at once (due today)
through the same path as the admin's, so it is numbered, emailed and payable like any other.
The form's key is stored with the invoice (unique per customer), so a double submit, even two
at once, gives back the same invoice.
"""
import secrets

from flask import g, redirect, request, url_for
from flask_babel import format_decimal
from flask_wtf import FlaskForm
from wtforms import HiddenField

from ..billing import invoices as billing
from ..billing import issuing
from ..catalogue import services as catalogue
from ..core.domain import DomainError
from ..core.i18n import gettext as _
from ..web.form_fields import show_errors
from . import bp
from .rendering import merchant_today, render_widget

MAX_QUANTITY = 10000


class NewInvoiceForm(FlaskForm):
    form_key = HiddenField()


def _quantities(products) -> tuple[list[tuple[int, int]], dict[int, str]]:
    """(product id, quantity) lines from the `quantity_<id>` inputs, and errors by product."""
    lines, errors = [], {}
    for product in products:
        raw = (request.form.get(f"quantity_{product.id}") or "").strip()
        if raw in ("", "0"):
            continue
        if not (raw.isascii() and raw.isdecimal()) or not 1 <= int(raw) <= MAX_QUANTITY:
            errors[product.id] = _("Enter a whole number from 0 to %(max)s.",
                                  max=format_decimal(MAX_QUANTITY))
            continue
        lines.append((product.id, int(raw)))
    return lines, errors


def _after(invoice_id: int, paid: bool = False):
    """To paying it, unless account credit already did (then to the invoice itself)."""
    if g.profile.payment.allow_payments and not paid:
        return redirect(url_for(".pay_invoices", invoice=invoice_id))
    if g.profile.invoice.enable_pdf_mode_only:
        return redirect(url_for(".invoice_pdf", invoice_id=invoice_id))
    return redirect(url_for(".invoice_detail", invoice_id=invoice_id))


@bp.route("/invoices/new", methods=["GET", "POST"])
def new_invoice():
    products = catalogue.active_products(g.merchant)
    form = NewInvoiceForm()
    errors, error = {}, None
    if request.method == "GET":
        form.form_key.data = secrets.token_urlsafe(16)
    if form.validate_on_submit():
        key = (form.form_key.data or "")[:32] or None
        lines, errors = _quantities(products)
        if not errors:
            try:
                invoice = billing.create_draft(g.merchant, g.customer, lines,
                                               due_date=merchant_today(), request_key=key)
                if invoice.status == "draft":
                    issuing.issue(g.merchant, invoice, merchant_today())
            except DomainError as exc:
                error = " ".join(show_errors(form, exc)) or None
            else:
                return _after(invoice.id, paid=invoice.status == "paid")
    return render_widget("widget/new_invoice.html", form=form, products=products,
                         errors=errors, error=error,
                         values={k: v for k, v in request.form.items()
                                 if k.startswith("quantity_")},
                         status=400 if (errors or error or form.errors) else 200)
