"""Orders for the widget's page tests (issue #21): `switch_orders_on` and an order with a due
period (`add_order`, "Bill now" shows), and `add_subscription`, a monthly plan and a pro plan
with an active order of two that started today, not invoiced (the plan-change pages)."""
from datetime import date, timedelta

from sqlalchemy import select

from widget_server.billing.models import Invoice
from widget_server.catalogue.models import Product
from widget_server.commerce import orders as commerce
from widget_server.commerce.models import Order, OrderLine, SalesAgent
from widget_server.commerce.periods import advance
from widget_server.core.extensions import db
from widget_server.customers.models import Customer
from widget_server.profiles.models import SelfServiceProfile
from widget_server.tenancy.models import Merchant

ORDER_SWITCHES = {"order": {"allow_new_order": True, "allow_cancel_order": True,
                            "allow_add_sales_agent": True},
                  "customer": {"enable_customer_billing_run": True}}


def switch_orders_on(app, p):
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, p.profile_id)
        settings = dict(profile.settings or {})
        for tab, values in ORDER_SWITCHES.items():
            settings[tab] = {**settings.get(tab, {}), **values}
        profile.settings = settings
        db.session.commit()


def add_order(app, p, *, due: bool = True) -> int:
    """Place an order for `p`'s customer (p.order_id); with `due`, as if placed a month ago."""
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        customer = db.session.get(Customer, p.customer_id)
        plan = Product(merchant_id=merchant.id, sku="MONTHLY", name="Monthly plan",
                       unit_price_minor=1190, currency=merchant.currency, tax_rate_bp=1900,
                       interval="month")
        agent = SalesAgent(merchant_id=merchant.id, name="Sam Seller")
        db.session.add_all([plan, agent])
        db.session.flush()
        order = commerce.place(merchant, customer, [commerce.Item(plan.id, 2)],
                               merchant.today(), sales_agent_id=agent.id)
        if due:
            make_due(order, merchant.today())
        db.session.commit()
        p.order_id, p.plan_id, p.agent_id = order.id, plan.id, agent.id
    return p.order_id


def make_due(order: Order, today) -> None:
    """As if the order had started a month ago: its next period starts today."""
    order.start_date = today - timedelta(days=31)
    order.anchor_day = today.day
    for invoice in db.session.scalars(select(Invoice).where(Invoice.order_id == order.id)):
        invoice.period_start, invoice.period_end = order.start_date, today
    order.next_billing_date = today


def add_subscription(app, p, *, allow_change: bool = True, start: date | None = None) -> int:
    """Returns the order's id; sets p.order_id, p.plan_id, p.pro_id and turns Allow Plan
    Change on in p's profile."""
    from widget_server.profiles.models import SelfServiceProfile

    today = start or date.today()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        plan = Product(merchant_id=merchant.id, sku="PLAN-M", name="Monthly plan",
                       unit_price_minor=1190, currency=merchant.currency, tax_rate_bp=1900,
                       interval="month")
        pro = Product(merchant_id=merchant.id, sku="PRO-M", name="Pro plan",
                      unit_price_minor=2380, currency=merchant.currency, tax_rate_bp=1900,
                      interval="month")
        db.session.add_all([plan, pro])
        db.session.flush()
        order = Order(merchant_id=merchant.id, customer_id=p.customer_id, number="ORD-90001",
                      status="active", currency=merchant.currency, start_date=today,
                      interval="month", interval_count=1, anchor_day=today.day,
                      next_billing_date=advance(today, "month", 1, today.day))
        line = OrderLine.for_product(merchant, plan, 2, 0)
        line.recurring = True
        order.lines.append(line)
        order.total_minor = line.amount_minor
        db.session.add(order)
        if allow_change:
            profile = db.session.get(SelfServiceProfile, p.profile_id)
            profile.settings = {**(profile.settings or {}),
                                "order": {**(profile.settings or {}).get("order", {}),
                                          "allow_plan_change": True}}
        db.session.commit()
        p.order_id, p.plan_id, p.pro_id = order.id, plan.id, pro.id
        return order.id
