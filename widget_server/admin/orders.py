"""Orders and sales agents in the admin (issue #21 item 3): the orders list (filtered by status
and customer, keyset pages), an order's detail with its invoices, a new order for a customer,
cancelling, "Run billing now", and the merchant's sales agents."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField
from wtforms.validators import InputRequired, Length, Optional

from ..catalogue import services as catalogue
from ..commerce import agents as agent_services
from ..commerce import billing_run, periods
from ..commerce import orders as order_services
from ..commerce import proposals as proposal_services
from ..commerce.models import ACTIVE, ORDER_STATUSES
from ..core import dates
from ..core.domain import DomainError
from ..customers import services as customer_services
from ..tenancy.permissions import Permission
from ..web.form_fields import LocalDateField, TrimmedField, select_choices, show_errors
from ..web.request_guards import optional_id
from . import bp
from .access import current_merchant, permission_required

BILLING = Permission.MANAGE_BILLING
PAGE = 50
ROWS = 5  # product lines on the new-order form


class ActionForm(FlaskForm):
    """CSRF token only."""


@bp.app_template_filter("admin_date")
def admin_date(day) -> str:
    """A date in the merchant's own pattern (de_DE 05.12.2026), as it is typed in forms."""
    return dates.format_input(day, current_merchant().locale) if day else "—"


STATUS_WORDS = {"active": "Active", "cancelled": "Cancelled", "ended": "Ended"}


@bp.app_template_global("admin_order_status")
def admin_order_status(order) -> str:
    """An order's status in words: a one-time order, billed, is "Completed" (not "ended")."""
    if order.status == "ended" and not order.recurring:
        return "Completed"
    return STATUS_WORDS.get(order.status, order.status.capitalize())


@bp.app_template_global("period_in_words")
def period_in_words(item) -> str:
    """How often an order or a product is billed, in the admin's English ("every month")."""
    return periods.in_words(item.interval, item.interval_count)


# --- orders --------------------------------------------------------------------------------

@bp.get("/orders")
@permission_required(BILLING)
def orders():
    merchant = current_merchant()
    status = request.args.get("status", "")
    status = status if status in ORDER_STATUSES else ""
    customer_id = optional_id(request.args.get("customer"))
    customer = (customer_services.get_customer(merchant, customer_id) if customer_id
                else None)
    if customer_id and customer is None:
        abort(404)
    before = optional_id(request.args.get("before"))
    rows = order_services.list_orders(merchant, status=status or None, customer_id=customer_id,
                                      before_id=before, limit=PAGE + 1)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return render_template("admin/orders/list.html", rows=rows, status=status,
                           statuses=ORDER_STATUSES, status_words=STATUS_WORDS,
                           customer=customer, before=before,
                           next_before=rows[-1][0].id if more else None, form=ActionForm())


@bp.post("/orders/billing-run")
@permission_required(BILLING)
def orders_billing_run():
    if not ActionForm().validate_on_submit():
        abort(400)
    billing_run.request_run(current_merchant().id)
    flash("The billing run is queued: the worker bills every order whose next billing date "
          "has come, usually within a minute. Reload this page to see the new invoices.",
          "success")
    return redirect(url_for("admin.orders"))


@bp.get("/orders/<id:order_id>")
@permission_required(BILLING)
def order_detail(order_id: int):
    merchant = current_merchant()
    order = order_services.get_order(merchant, order_id) or abort(404)
    customer = customer_services.get_customer(merchant, order.customer_id)
    agent = (agent_services.get_agent(merchant, order.sales_agent_id)
             if order.sales_agent_id else None)
    return render_template("admin/orders/detail.html", order=order, customer=customer,
                           agent=agent, invoices=order_services.invoices_of(merchant, order),
                           proposal=proposal_services.of_order(merchant, order),
                           form=ActionForm())


class NewOrderForm(FlaskForm):
    """The start date and agent; the product lines are read from the form by name."""
    start = LocalDateField("Start date", validators=[Optional()],
                           locale=lambda: current_merchant().locale,
                           render_kw={"autocomplete": "off"})
    sales_agent = SelectField("Sales agent", validators=[Optional()], validate_choice=False)


def _lines(form) -> tuple[list[order_services.Item], str | None]:
    items, error = [], None
    for row in range(ROWS):
        product = request.form.get(f"product_{row}", "")
        quantity = request.form.get(f"quantity_{row}", "").strip()
        if optional_id(product) and quantity.isascii() and quantity.isdecimal() \
                and len(quantity) < 7:
            items.append(order_services.Item(int(product), int(quantity)))
        elif product or quantity not in ("", "1"):
            error = "Each line needs a product and a whole-number quantity."
    return items, error


@bp.route("/customers/<id:customer_id>/orders/new", methods=["GET", "POST"])
@permission_required(BILLING)
def order_new(customer_id: int):
    merchant = current_merchant()
    customer = customer_services.get_customer(merchant, customer_id) or abort(404)
    today = merchant.today()
    form = NewOrderForm()
    if not form.is_submitted():
        form.start.data = today  # shown in the merchant's pattern
    active_agents = agent_services.list_agents(merchant, active_only=True)
    form.sales_agent.choices = select_choices(
        [("", "None"), *((str(a.id), a.name) for a in active_agents)])
    error = None
    if form.validate_on_submit():
        items, error = _lines(form)
        if error is None:
            try:
                order = order_services.place(
                    merchant, customer, items, today, start=form.start.data or today,
                    sales_agent_id=optional_id(form.sales_agent.data or ""))
            except DomainError as exc:
                rest = show_errors(form, exc, default=None)
                error = " ".join(rest) or None
            else:
                if order.invoice_id:
                    flash(f"Order {order.number} placed; its first invoice is issued and "
                          "emailed.", "success")
                else:
                    flash(f"Order {order.number} placed; its first period is billed on "
                          f"{admin_date(order.start_date)}.", "success")
                return redirect(url_for("admin.order_detail", order_id=order.id))
    bad = bool(error or form.errors)
    return render_template("admin/orders/new.html", form=form, customer=customer, error=error,
                           products=catalogue.active_products(merchant), rows=range(ROWS),
                           values=request.form), 400 if bad else 200


class CancelForm(FlaskForm):
    when = RadioField("When", default="period_end", validators=[InputRequired()])

    def __init__(self, *args, can_wait: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.when.choices = select_choices(
            [("period_end", "At the end of the current period")] * can_wait
            + [("now", "At once")])


@bp.route("/orders/<id:order_id>/cancel", methods=["GET", "POST"])
@permission_required(BILLING)
def order_cancel(order_id: int):
    """A confirmation that says what happens, then the cancellation."""
    merchant = current_merchant()
    order = order_services.get_order(merchant, order_id) or abort(404)
    if order.status != ACTIVE or order.cancelled_at is not None:
        flash("This order is already cancelled or has ended.", "error")
        return redirect(url_for("admin.order_detail", order_id=order.id))
    period_end = order_services.current_period_end(order)
    can_wait = order.recurring and period_end is not None
    form = CancelForm(can_wait=can_wait)
    if form.validate_on_submit():
        try:
            order_services.cancel(merchant, order, merchant.today(),
                                  at_period_end=form.when.data == "period_end")
        except DomainError as exc:
            for message in show_errors(None, exc):
                flash(message, "error")
        else:
            if form.when.data == "period_end":
                flash(f"Order {order.number} is cancelled at the end of its period: it is not "
                      f"billed again and ends on {admin_date(order.end_date)}.", "success")
            else:
                flash(f"Order {order.number} is cancelled: nothing more is billed.", "success")
        return redirect(url_for("admin.order_detail", order_id=order.id))
    return render_template("admin/orders/cancel.html", order=order, form=form,
                           period_end=period_end, can_wait=can_wait), (
        400 if form.errors else 200)


# --- sales agents --------------------------------------------------------------------------

class AgentForm(FlaskForm):
    name = TrimmedField("Name", validators=[InputRequired(), Length(max=200)])
    email = TrimmedField("Email", validators=[Optional(), Length(max=254)],
                         render_kw={"type": "email", "autocomplete": "off"})


@bp.get("/agents")
@permission_required(BILLING)
def agents():
    return render_template("admin/agents/list.html",
                           agents=agent_services.list_agents(current_merchant()),
                           form=ActionForm())


def _agent_form(agent=None):
    merchant = current_merchant()
    form = AgentForm(obj=agent)
    if form.validate_on_submit():
        try:
            if agent is None:
                agent = agent_services.create_agent(merchant, name=form.name.data,
                                                    email=form.email.data or "")
                flash(f"Sales agent “{agent.name}” created.", "success")
            else:
                agent_services.update_agent(agent, name=form.name.data,
                                            email=form.email.data or "")
                flash(f"Sales agent “{agent.name}” saved.", "success")
        except DomainError as exc:
            form.form_errors.extend(show_errors(form, exc))
        else:
            return redirect(url_for("admin.agents"))
    return render_template("admin/agents/edit.html", form=form, agent=agent), (
        400 if form.errors else 200)


@bp.route("/agents/new", methods=["GET", "POST"])
@permission_required(BILLING)
def agent_new():
    return _agent_form()


@bp.route("/agents/<id:agent_id>", methods=["GET", "POST"])
@permission_required(BILLING)
def agent_edit(agent_id: int):
    agent = agent_services.get_agent(current_merchant(), agent_id) or abort(404)
    return _agent_form(agent)


@bp.post("/agents/<id:agent_id>/<any(deactivate, reactivate):action>")
@permission_required(BILLING)
def agent_action(agent_id: int, action: str):
    agent = agent_services.get_agent(current_merchant(), agent_id) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    agent_services.set_active(agent, action == "reactivate")
    if action == "reactivate":
        flash(f"“{agent.name}” is active again: they can be chosen for new orders.", "success")
    else:
        flash(f"“{agent.name}” is deactivated: existing orders keep them; they can no longer be "
              "chosen for new orders.", "success")
    return redirect(url_for("admin.agents"))
