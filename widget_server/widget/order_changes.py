"""Allow Plan Change (issue #21 item 6): the customer changes the quantity of a subscription or
switches it to another plan. "Review" shows the proration the service computes (credit for the
unused part of the period, charge for the new plan, the net effect and the next invoice; for a
plan billed at another period, the new subscription starting today and its first invoice);
"Confirm" applies it and tells the host page (`order-changed`). The rule is `commerce.changes`';
this page only parses and renders.
"""
from flask import abort, current_app, flash, g, redirect, request, session, url_for

from ..commerce import changes
from ..commerce.orders import MAX_QUANTITY, get_order
from ..core.domain import DomainError
from ..core.extensions import db
from ..core.i18n import gettext
from ..core.i18n import lazy_gettext as _l
from ..core.money import from_minor
from . import bp
from .forms import ActionForm
from .rendering import EVENT_KEY, merchant_today, render_widget, widget_event

# the service's refusals, by code, in the customer's language
MESSAGES = {
    "quantity": _l("Enter a whole number from 1 to 10,000."),
    "unchanged": _l("Choose a different quantity or plan."),
    "product": _l("Choose one of the listed plans."),
    "product_not_recurring": _l("Choose one of the listed plans."),
    "product_period": _l("This plan is billed at a different period than your subscription; "
                         "order it separately."),
    "line": _l("Choose one of the subscription's plans."),
    "not_changeable": _l("Only an active subscription that is not cancelled can be changed."),
}


def back_url(order_id: int) -> str:
    """The order's page when the Orders pages are there, else the overview."""
    endpoint = f"{request.blueprint}.order_detail"
    if endpoint in current_app.view_functions:
        return url_for(".order_detail", order_id=order_id)
    return url_for(".overview")


def _int(name: str) -> int | str | None:
    """An optional whole number from the form; "bad" when it is not one."""
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdecimal()) or len(raw) > 9:
        return "bad"
    return int(raw)


def changed_event(order, change) -> dict:
    """The order as it is now: a restart's new order, naming the one it replaces."""
    replaced = {"replaced_order_id": order.id} if change.new_order is not None else {}
    order = change.new_order or order
    return widget_event(
        "order-changed", order_id=order.id, number=order.number, status=order.status,
        amount=str(from_minor(order.total_minor, order.currency)),
        amount_minor=order.total_minor, currency=order.currency,
        quantity=change.quantity, product_id=changes.line_product(change),
        proration_minor=change.net_minor, **replaced)


@bp.route("/orders/<int:order_id>/change", methods=["GET", "POST"])
def order_change(order_id: int):
    order = get_order(g.merchant, order_id, g.customer.id)
    if order is None:
        abort(404)
    form = ActionForm()
    back = back_url(order.id)
    if not changes.changeable(order):
        return render_widget("widget/order_change.html", order=order, form=form, back=back,
                             refused=MESSAGES["not_changeable"], status=409)
    lines = [line for line in order.lines if line.recurring]
    products = changes.changeable_products(g.merchant, order)
    errors, change = {}, None
    values = {"line": lines[0].id, "product": None, "quantity": lines[0].quantity}
    if request.method == "POST" and form.validate_on_submit():
        line_id, product_id, quantity = _int("line"), _int("product"), _int("quantity")
        values = {"line": line_id, "product": product_id,
                  "quantity": request.form.get("quantity", "")}
        if line_id == "bad":
            errors["line"] = MESSAGES["line"]
        if product_id == "bad":
            errors["product"] = MESSAGES["product"]
        if not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            errors["quantity"] = MESSAGES["quantity"]
        if not errors:
            confirm = request.form.get("step") == "confirm"
            try:
                run = changes.apply if confirm else changes.preview
                change = run(g.merchant, order, line_id, product_id, quantity, merchant_today())
            except DomainError as exc:
                db.session.rollback()
                errors[exc.field if exc.field in ("line", "product", "quantity") else "form"] = (
                    MESSAGES.get(exc.code) or exc.message)
                change = None
            else:
                if confirm:
                    session[EVENT_KEY] = changed_event(order, change)
                    if change.new_order is not None:
                        flash(gettext("Your new subscription %(number)s starts today; %(old)s "
                                      "ends today.", number=change.new_order.number,
                                      old=order.number), "success")
                        return redirect(back_url(change.new_order.id))
                    flash(gettext("Your subscription is changed."), "success")
                    return redirect(back)
    if "line" in errors and len(lines) == 1:  # no line field to show it beside
        errors["form"] = errors.pop("line")
    return render_widget("widget/order_change.html", order=order, form=form, back=back,
                         lines=lines, products=products, values=values, errors=errors,
                         change=change, refused=None,
                         status=400 if errors else 200)
