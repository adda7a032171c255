"""Issuing invoices in the admin (T-5): draft from catalogue lines, issue (with its email), void."""
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from ..billing import invoices as billing
from ..billing import issuing, pdf, tax
from ..catalogue import services as catalogue
from ..core import dates
from ..core.domain import DomainError
from ..customers import services as customer_services
from ..tenancy import audit
from ..tenancy.configuration import prices_include_tax
from ..tenancy.permissions import Permission
from ..web.form_fields import show_errors
from ..web.request_guards import optional_id
from . import bp
from .access import current_merchant, permission_required

BILLING = Permission.MANAGE_BILLING
ROWS = 5


class ActionForm(FlaskForm):
    """CSRF token only; the line inputs are read from the form by name."""


@bp.app_template_filter("admin_money")
def admin_money(minor: int, currency: str | None) -> str:
    """Money in the merchant's locale; without a currency, in the merchant's own."""
    from ..core.money import format_money

    merchant = current_merchant()
    return format_money(minor, currency or merchant.currency, merchant.locale)


@bp.app_template_filter("admin_rate")
def admin_rate(rate_bp: int) -> str:
    """A tax rate in basis points as the admin writes it: "19 %", "5.5 %"."""
    from ..billing.tax import format_rate

    return f"{format_rate(rate_bp)} %"


@bp.route("/customers/<id:customer_id>/invoices/new", methods=["GET", "POST"])
@permission_required(BILLING)
def invoice_new(customer_id: int):
    merchant = current_merchant()
    customer = customer_services.get_customer(merchant, customer_id) or abort(404)
    form, error = ActionForm(), None
    if form.validate_on_submit():
        lines = []
        for row in range(ROWS):
            product = request.form.get(f"product_{row}", "")
            quantity = request.form.get(f"quantity_{row}", "")
            quantity = quantity.strip()
            if optional_id(product) and quantity.isascii() and quantity.isdecimal() \
                    and len(quantity) < 7:
                lines.append((int(product), int(quantity)))
            elif product or quantity not in ("", "1"):
                error = "Each line needs a product and a whole-number quantity."
        due = request.form.get("due_date", "")
        try:
            due_date = dates.parse_input(due, merchant.locale) if due.strip() else None
        except ValueError:
            error = f"Enter the due date as {dates.format_hint(merchant.locale, 'en')}."
        if error is None:
            try:
                invoice = billing.create_draft(merchant, customer, lines, due_date)
            except DomainError as exc:
                error = " ".join(show_errors(None, exc))
            else:
                flash(f"Draft {invoice.number} created. Check it, then issue it.", "success")
                return redirect(url_for("admin.invoice_detail", invoice_id=invoice.id))
    return render_template("admin/invoices/new.html", form=form, customer=customer, error=error,
                           products=catalogue.active_products(merchant), rows=range(ROWS),
                           values=request.form,
                           date_hint=dates.format_hint(merchant.locale, "en"),
                           prices_include_tax=prices_include_tax(merchant)), 400 if error else 200


@bp.get("/invoices/<id:invoice_id>")
@permission_required(BILLING)
def invoice_detail(invoice_id: int):
    merchant = current_merchant()
    invoice = billing.get_invoice(merchant, invoice_id) or abort(404)
    customer = customer_services.get_customer(merchant, invoice.customer_id)
    return render_template("admin/invoices/detail.html", invoice=invoice, customer=customer,
                           form=ActionForm(), tax=tax.summary(invoice.lines))


@bp.get("/invoices/<id:invoice_id>.pdf")
@permission_required(BILLING)
def invoice_pdf(invoice_id: int):
    """The invoice's PDF as the customer gets it (the admin's language: English)."""
    merchant = current_merchant()
    invoice = billing.get_invoice(merchant, invoice_id) or abort(404)
    customer = customer_services.get_customer(merchant, invoice.customer_id)
    links = {invoice.id: issuing.pay_link(merchant, invoice)} if invoice.status == "issued" else {}
    body = pdf.render(merchant, customer, [invoice], links)
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{invoice.number}.pdf"'})


@bp.post("/invoices/<id:invoice_id>/<any(issue, void):action>")
@permission_required(BILLING)
def invoice_action(invoice_id: int, action: str):
    merchant = current_merchant()
    invoice = billing.get_invoice(merchant, invoice_id) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        if action == "issue":

            issuing.issue(merchant, invoice, merchant.today())
            flash(f"{invoice.number} is issued; the Invoice Issued email is queued.", "success")
        else:
            billing.void(invoice)
            audit.record(merchant, current_user, "invoice.voided",
                         audit.subject_of("invoice", invoice.id), label=invoice.number,
                         number=invoice.number,
                         total_minor=invoice.total_minor)  # #24
            flash(f"{invoice.number} is void.", "success")
    except DomainError as exc:
        for message in show_errors(None, exc):
            flash(message, "error")
    return redirect(url_for("admin.invoice_detail", invoice_id=invoice.id))
