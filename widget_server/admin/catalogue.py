"""The catalogue in the admin (issue #21 item 1): products on sale and archived, create, edit,
archive and restore. The rules are the catalogue's services; this page parses and renders."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..catalogue import services as catalogue
from ..catalogue.models import INTERVALS
from ..core.domain import DomainError
from ..tenancy.permissions import Permission
from ..web.form_fields import TrimmedField, select_choices, show_errors
from . import bp
from .access import current_merchant, permission_required

BILLING = Permission.MANAGE_BILLING
BILLING_CHOICES = (("once", "One-time"), ("recurring", "Recurring"))
INTERVAL_LABELS = {"day": "days", "week": "weeks", "month": "months", "year": "years"}


class ProductForm(FlaskForm):
    sku = TrimmedField("SKU", validators=[InputRequired(), Length(max=64)],
                       description="Your own code for the product, unique among your products.",
                       render_kw={"autocomplete": "off", "autocapitalize": "none"})
    name = TrimmedField("Name", validators=[InputRequired(), Length(max=200)],
                        description="Shown on invoice lines.")
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)],
                                render_kw={"rows": 3})
    price = TrimmedField("Price", validators=[InputRequired(), Length(max=30)],
                         render_kw={"inputmode": "decimal", "autocomplete": "off"})
    tax_rate = TrimmedField("Tax rate (%)", validators=[Optional(), Length(max=10)],
                            description="From 0 to 100, up to 2 decimals (19, 7, 5.5). Whether "
                                        "prices include it: Configuration → Business and tax.",
                            render_kw={"inputmode": "decimal", "autocomplete": "off"})
    billing = SelectField("Billing", validators=[InputRequired()])
    interval_count = IntegerField("Every", validators=[Optional(), NumberRange(min=1, max=100)],
                                  default=1, render_kw={"min": 1, "max": 100})
    interval = SelectField("Period", validators=[Optional()])
    active = BooleanField("On sale", default=True,
                          description="Off: archived, no longer offered on new invoices and "
                                      "orders.")
    in_cart = BooleanField("Offered in the shopping cart", default=False,
                           description="Listed in the shopping cart widget, where the profile "
                                       "enables it (Self-service profile → Shopping Cart).")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.billing.choices = select_choices(BILLING_CHOICES)
        self.interval.choices = select_choices((i, INTERVAL_LABELS[i]) for i in INTERVALS)


class ActionForm(FlaskForm):
    """CSRF token only (archive, restore)."""


def _initial(product, merchant) -> dict:
    from ..core.money import from_minor

    return {"sku": product.sku, "name": product.name, "description": product.description,
            "price": str(from_minor(product.unit_price_minor, merchant.currency)),
            "tax_rate": _percent(product.tax_rate_bp),
            "billing": "recurring" if product.recurring else "once",
            "interval": product.interval or "month", "interval_count": product.interval_count,
            "active": product.active, "in_cart": product.in_cart}


def _percent(rate_bp: int) -> str:
    from ..billing.tax import format_rate

    return format_rate(rate_bp)


def _handle(product=None):
    merchant = current_merchant()
    form = ProductForm(data=_initial(product, merchant) if product else
                       {"interval": "month", "interval_count": 1})
    if form.validate_on_submit():
        parse_errors = {}
        price = rate = None
        try:
            price = catalogue.parse_price(form.price.data, merchant.currency)
        except DomainError as exc:
            parse_errors.update(exc.errors)
        try:
            rate = catalogue.parse_tax_rate(form.tax_rate.data or "")
        except DomainError as exc:
            parse_errors.update(exc.errors)
        recurring = form.billing.data == "recurring"
        if recurring and not form.interval.data:
            parse_errors["interval"] = "Choose how often the price is billed."
        try:
            if parse_errors:
                raise DomainError.of(parse_errors)
            values = catalogue.ProductValues(
                sku=form.sku.data or "", name=form.name.data or "",
                description=form.description.data or "", price_minor=price, tax_rate_bp=rate,
                interval=form.interval.data if recurring else None,
                interval_count=(form.interval_count.data or 1) if recurring else 1,
                active=form.active.data, in_cart=form.in_cart.data)
            saved = catalogue.save_product(merchant, product, values)
        except DomainError as exc:
            form.form_errors.extend(show_errors(form, exc))
        else:
            flash(f"Product “{saved.name}” {'saved' if product else 'created'}.", "success")
            return redirect(url_for("admin.products", archived=None if saved.active else 1))
    return render_template("admin/products/edit.html", form=form, product=product,
                           merchant=merchant, action_form=ActionForm()), (
        400 if form.errors else 200)


@bp.get("/products")
@permission_required(BILLING)
def products():
    archived = request.args.get("archived") == "1"
    return render_template("admin/products/list.html", archived=archived,
                           products=catalogue.list_products(current_merchant(),
                                                            archived=archived),
                           billing_label=catalogue.billing_label, percent=_percent)


@bp.route("/products/new", methods=["GET", "POST"])
@permission_required(BILLING)
def product_new():
    return _handle()


@bp.route("/products/<id:product_id>", methods=["GET", "POST"])
@permission_required(BILLING)
def product_detail(product_id: int):
    product = catalogue.get_product(current_merchant(), product_id) or abort(404)
    return _handle(product)


@bp.post("/products/<id:product_id>/<any(archive, restore):action>")
@permission_required(BILLING)
def product_action(product_id: int, action: str):
    product = catalogue.get_product(current_merchant(), product_id) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    catalogue.set_active(product, action == "restore")
    if action == "archive":
        flash(f"“{product.name}” is archived: no longer offered on new invoices and orders; "
              "lines already made keep it.", "success")
    else:
        flash(f"“{product.name}” is on sale again.", "success")
    return redirect(url_for("admin.product_detail", product_id=product.id))
