"""Orders in the widget (W-7, P-4, issue #21 item 5): the customer's subscriptions, list and
detail; Allow New Order (pick, review, confirm: the first invoice is issued at once and can be
paid right away), Allow Cancel Order (at the period's end or at once, as the Order tab says),
Allow Add Sales Agent and Enable Customer Billing Run ("Bill now"). The rules are
`commerce.orders` and `commerce.customer_agents`; this page parses and renders.

The section is shown when the profile allows new orders (or attaching a sales agent, whose form
it holds) or the customer has orders: one EXISTS query, asked only when those switches are off,
once a request (`has_orders`), so every widget page keeps a constant number of statements.
"""
import secrets
from datetime import date

from flask import abort, flash, g, redirect, request, session, url_for
from flask_wtf import FlaskForm
from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload
from wtforms import HiddenField

from ..commerce import changes, customer_agents, order_lists, periods
from ..commerce import orders as commerce
from ..commerce.models import ACTIVE, ENDED, Order
from ..core.domain import DomainError
from ..core.extensions import db
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.i18n import lazy_pgettext
from ..core.money import from_minor
from ..tenancy.configuration import prices_include_tax
from ..web.request_guards import optional_id
from . import bp
from .forms import ActionForm
from .rendering import EVENT_KEY, merchant_today, render_widget, widget_event, widget_url_for

PAGE = 20

# The services' messages, in the customer's language (extracted for the catalogues here).
MESSAGES = {
    "Choose at least one product.": _l("Choose at least one product."),
    "Quantities are whole numbers from 1 to 10,000.":
        _l("Quantities are whole numbers from 1 to 10,000."),
    "Choose products from the catalogue.": _l("Choose products from the catalogue."),
    "Products billed at different periods are ordered separately.":
        _l("Products billed at different periods are ordered separately."),
    "Choose one of the listed sales agents.": _l("Choose one of the listed sales agents."),
    "This order is already cancelled or has ended.":
        _l("This order is already cancelled or has ended."),
}

# "cancelled" in an order's words: a subscription is "gekündigt", an invoice "storniert"
ORDER_STATUS = {"active": _l("Active"), "cancelled": lazy_pgettext("order", "Cancelled"),
                "ended": _l("Ended")}


def _say(exc: DomainError) -> str:
    db.session.rollback()  # a refusal never commits half a change
    message = MESSAGES.get(exc.message)
    return str(message) if message is not None else exc.message


def has_orders() -> bool:
    """Whether the signed-in customer has any order (once a request)."""
    if getattr(g.get("customer"), "id", None) is None:
        return False  # signed out, or the admin's preview (a sample customer)
    if "has_orders" not in g:
        g.has_orders = bool(db.session.scalar(select(exists().where(
            Order.merchant_id == g.merchant.id, Order.customer_id == g.customer.id))))
    return g.has_orders


def orders_section() -> bool:
    """The Orders section: where new orders are allowed or a sales agent can be attached (the
    section holds that form), or the customer has orders."""
    return (bool(g.profile.order.allow_new_order or g.profile.order.allow_add_sales_agent)
            or has_orders())


@bp.app_template_global("order_status")
def order_status(order) -> str:
    if order.status == ACTIVE and order.cancelled_at is not None:
        return str(_("Ends %(date)s", date=_local_date(order.end_date)))
    if order.status == ENDED and not order.recurring:
        return str(_("Completed"))  # a one-time order, billed: nothing has "ended"
    label = ORDER_STATUS.get(order.status)
    return str(label) if label is not None else order.status.capitalize()


def _local_date(day) -> str:
    from .rendering import local_date_filter

    return local_date_filter(day)


@bp.app_template_global("period_words")
def period_words(interval: str | None, count: int = 1) -> str:
    """How often: "every month", "every 3 months", "once"."""
    return periods.in_words(interval, count)


def order_event(order, type_: str, **more) -> dict:
    """order-created / order-cancelled / order-changed for the host page: which order, what
    one period costs, its status (as payment events carry theirs)."""
    return widget_event(type_, order_id=order.id, number=order.number, status=order.status,
                        amount=str(from_minor(order.total_minor, order.currency)),
                        amount_minor=order.total_minor, currency=order.currency,
                        next_billing_date=(order.next_billing_date.isoformat()
                                           if order.next_billing_date else None),
                        **more)


def _own_order(order_id: int) -> Order:
    order = commerce.get_order(g.merchant, order_id, customer_id=g.customer.id)
    if order is None:
        abort(404)
    return order


def _list(before: int | None, after: int | None, with_agents: bool):
    """(orders, more, newer, agents, own agent): a page of the customer's orders and, with
    `with_agents`, the sales agents the page offers (None otherwise)."""
    agents = agent = None
    if after is not None:  # the "newer" page: above the cursor
        stmt = select(Order).options(selectinload(Order.lines)).where(
            Order.merchant_id == g.merchant.id, Order.customer_id == g.customer.id)
        rows = list(db.session.scalars(stmt.where(Order.id > after).order_by(Order.id)
                                       .limit(PAGE + 1)))
        newer = len(rows) > PAGE
        rows = list(reversed(rows[:PAGE]))
        more = bool(rows) and db.session.scalar(select(exists().where(
            Order.merchant_id == g.merchant.id, Order.customer_id == g.customer.id,
            Order.id < rows[-1].id)))
        if with_agents:
            agents, agent = customer_agents.page_agents(g.merchant, g.customer)
        return rows, bool(more), newer, agents, agent
    page = order_lists.page_for_customer(g.merchant, g.customer, before_id=before,
                                         limit=PAGE + 1, with_agents=with_agents)
    rows = page.orders
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    newer = before is not None and bool(rows) and bool(db.session.scalar(select(exists().where(
        Order.merchant_id == g.merchant.id, Order.customer_id == g.customer.id,
        Order.id > rows[0].id))))
    return rows, more, newer, page.agents, page.own_agent


def _may_bill(order) -> bool:
    """Bill now (P-3): the period that has come, or the next one while the current one runs."""
    return (g.profile.customer.enable_customer_billing_run
            and commerce.billable(order, merchant_today(), ahead=True)
            and (order.end_date is None or order.next_billing_date < order.end_date))


class AgentForm(FlaskForm):
    sales_agent = HiddenField()  # the select is rendered by hand (its options are the agents)


@bp.get("/orders")
def orders():
    before = optional_id(request.args.get("before"))
    after = optional_id(request.args.get("after")) if before is None else None
    rows, more, newer, agents, agent = _list(before, after,
                                             g.profile.order.allow_add_sales_agent)
    row_url = widget_url_for(".order_detail", order_id=0)[:-1]
    return render_widget("widget/orders.html", orders=rows, more=more, newer=newer,
                         row_url=row_url, agents=agents, agent=agent,
                         today=merchant_today())


@bp.get("/orders/<id:order_id>")
def order_detail(order_id: int):
    order = _own_order(order_id)
    invoices = [i for i in commerce.invoices_of(g.merchant, order) if i.status != "draft"]
    agent = None
    if order.sales_agent_id is not None:
        from ..commerce.models import SalesAgent

        agent = db.session.get(SalesAgent, order.sales_agent_id)
    show_invoices = g.profile.invoice.show_invoices
    return render_widget(
        "widget/order.html", order=order, invoices=invoices, agent=agent,
        show_invoices=show_invoices, pdf_only=g.profile.invoice.enable_pdf_mode_only,
        may_pay=g.profile.payment.allow_payments, may_bill=_may_bill(order),
        may_cancel=(g.profile.order.allow_cancel_order and order.status == ACTIVE
                    and order.cancelled_at is None),
        may_change=g.profile.order.allow_plan_change and changes.changeable(order),
        # plan changes waiting for the next invoice (even the last one, cancelled at its end)
        pending=changes.pending_minor(g.merchant, order) if order.status == ACTIVE else 0,
        form=ActionForm())


class NewOrderForm(FlaskForm):
    form_key = HiddenField()
    step = HiddenField()  # "review" (show what is charged) or "confirm" (place the order)


def _items(products) -> tuple[list[commerce.Item], dict[int, str]]:
    """The chosen product and its quantity; errors by product id (0: no product)."""
    chosen = optional_id(request.form.get("product"))
    offered = {p.id for p in products}
    if chosen is None or chosen not in offered:
        return [], {0: _("Choose a product.")}
    raw = (request.form.get(f"quantity_{chosen}") or "1").strip()
    if not (raw.isascii() and raw.isdecimal()) or not 1 <= int(raw) <= commerce.MAX_QUANTITY:
        return [], {chosen: _("Enter a whole number from 1 to 10,000.")}
    return [commerce.Item(chosen, int(raw))], {}


@bp.route("/orders/new", methods=["GET", "POST"])
def new_order():
    from ..catalogue import services as catalogue

    products = catalogue.active_products(g.merchant)
    form = NewOrderForm()
    errors, error, quote = {}, None, None
    if request.method == "GET":
        form.form_key.data = secrets.token_urlsafe(16)
    if form.validate_on_submit():
        key = (form.form_key.data or "")[:32] or None
        items, errors = _items(products)
        if not errors and form.step.data in ("review", "confirm"):
            try:
                if form.step.data == "confirm":
                    order = commerce.place(g.merchant, g.customer, items, merchant_today(),
                                           sales_agent_id=_usable_agent(), request_key=key)
                else:
                    quote = commerce.quote(g.merchant, items)
            except DomainError as exc:
                error = _say(exc)
            else:
                if quote is None:
                    session[EVENT_KEY] = order_event(order, "order-created")
                    flash(_("Your order %(number)s is placed.", number=order.number),
                          "success")
                    return redirect(url_for(".order_detail", order_id=order.id))
    values = {k: v for k, v in request.form.items() if k.startswith("quantity_")}
    chosen = optional_id(request.form.get("product"))
    return render_widget("widget/new_order.html", form=form, products=products, errors=errors,
                         error=error, quote=quote, values=values, chosen=chosen,
                         merchant_prices_include_tax=prices_include_tax(g.merchant),
                         status=400 if (errors or error or form.errors) else 200)


def _usable_agent() -> int | None:
    """The customer's own sales agent goes on their orders, while it is an active one."""
    agent = customer_agents.agent_of(g.merchant, g.customer)
    return agent.id if agent is not None and agent.active else None


@bp.route("/orders/<id:order_id>/cancel", methods=["GET", "POST"])
def cancel_order(order_id: int):
    order = _own_order(order_id)
    at_period_end = g.profile.order.cancel_mode != "immediately"
    form = ActionForm()
    error = None
    if order.status != ACTIVE or order.cancelled_at is not None:
        error = str(MESSAGES["This order is already cancelled or has ended."])
    elif form.validate_on_submit():
        try:
            commerce.cancel(g.merchant, order, merchant_today(), at_period_end=at_period_end)
        except DomainError as exc:
            error = _say(exc)
        else:
            session[EVENT_KEY] = order_event(order, "order-cancelled",
                                             at_period_end=order.status == ACTIVE)
            pending = changes.pending_minor(g.merchant, order) if order.status == ACTIVE else 0
            if pending:
                flash(_("Order %(number)s is cancelled. It runs until %(date)s; its plan "
                        "changes, %(amount)s, are billed then, on a last invoice.",
                        number=order.number, date=_local_date(order.end_date),
                        amount=_money(pending, order.currency)), "success")
            elif order.status == ACTIVE:
                flash(_("Order %(number)s is cancelled. It runs until %(date)s and is not "
                        "billed again.", number=order.number,
                        date=_local_date(order.end_date)), "success")
            else:
                flash(_("Order %(number)s is cancelled.", number=order.number), "success")
            return redirect(url_for(".order_detail", order_id=order.id))
    period_end = commerce.current_period_end(order) if at_period_end else None
    return render_widget("widget/cancel_order.html", order=order, form=form, error=error,
                         period_end=period_end if order.recurring else None,
                         pending=changes.pending_minor(g.merchant, order) if period_end else 0,
                         status=409 if error else 200)


@bp.post("/orders/<id:order_id>/bill")
def bill_order(order_id: int):
    """Enable Customer Billing Run: the order's next period invoiced now, whether it has come
    or is the next one (one period ahead at most). Two clicks or two tabs at once bill it once
    (the service's claim on the period)."""
    order = _own_order(order_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    invoice = None
    if _may_bill(order):
        invoice = commerce.bill_due_period(g.merchant, order, merchant_today(), ahead=True,
                                           period_start=_period_shown())
    if invoice is None:
        db.session.refresh(order)  # another click or tab may have billed it a moment ago
        day = order.next_billing_date
        if day is not None and order.status == ACTIVE:
            flash(_("Nothing is due yet: the next period is billed on %(date)s.",
                    date=_local_date(day)), "warning")
        else:
            flash(_("Nothing is due: this order is not billed again."), "warning")
        return redirect(url_for(".order_detail", order_id=order.id)), 303
    session[EVENT_KEY] = order_event(order, "order-changed", invoice_id=invoice.id,
                                     invoice_number=invoice.number)
    flash(_("Invoice %(number)s for %(amount)s is issued.", number=invoice.number,
            amount=_money(invoice.balance_minor, invoice.currency)), "success")
    return redirect(url_for(".order_detail", order_id=order.id)), 303


def _period_shown() -> date | None:
    """The period the page offered to bill (its start, ISO); a crafted value bills nothing."""
    try:
        return date.fromisoformat(request.form.get("period", ""))
    except ValueError:
        return date.min


def _money(minor: int, currency: str) -> str:
    from .rendering import money_filter

    return money_filter(minor, currency)


@bp.post("/orders/sales-agent")
def sales_agent():
    form = AgentForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        agent = customer_agents.attach_to_customer(
            g.merchant, g.customer, optional_id(request.form.get("sales_agent")))
    except DomainError as exc:
        flash(_say(exc), "warning")
    else:
        flash(_("%(name)s is now your sales agent.", name=agent.name), "success")
    return redirect(url_for(".orders")), 303
