"""A subscription for a portal's customer, for page tests (issue #21): a monthly plan and a
weekly one, and an active order of two of the monthly plan that started today, without
invoicing it (the pages' tests see no extra invoice)."""
from datetime import date

from widget_server.catalogue.models import Product
from widget_server.commerce.models import Order, OrderLine
from widget_server.commerce.periods import advance
from widget_server.core.extensions import db
from widget_server.tenancy.models import Merchant


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
