"""The admin's orders and sales agents in Chromium (issue #21 item 3): an agent is created, an
order placed for a customer with it and cancelled at the end of its period, and axe finds no
serious or critical WCAG A/AA violation on any of these pages."""
import pytest
from sqlalchemy import select

from tests.test_browser_accessibility import _serious

pytestmark = pytest.mark.browser


def test_agent_order_and_cancel_in_the_browser_pass_axe(app, page, live_server, portal):
    from widget_server.catalogue.models import Product
    from widget_server.commerce.models import Order
    from widget_server.core.extensions import db

    p = portal()
    with app.app_context():
        db.session.add(Product(merchant_id=p.merchant_id, sku="PLAN", name="Plan",
                               unit_price_minor=1190, currency="USD", tax_rate_bp=1900,
                               interval="month"))
        db.session.commit()
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill("owner-pass-123")
    page.get_by_role("button", name="Sign in").click()

    page.goto(f"{live_server}/admin/agents/new")
    assert _serious(page) == []
    page.get_by_label("Name").fill("Sam Seller")
    page.get_by_label("Email").fill("not an email")
    page.get_by_role("button", name="Create").click()
    page.get_by_text("is not a valid email address").wait_for()
    assert _serious(page) == []  # the error state too
    page.get_by_label("Email").fill("sam@acme.test")
    page.get_by_role("button", name="Create").click()
    page.get_by_role("heading", name="Sales agents").wait_for()
    assert _serious(page) == []

    page.goto(f"{live_server}/admin/customers/{p.customer_id}")
    page.get_by_role("link", name="New order").click()
    page.get_by_role("heading", name="New order for Jane Doe").wait_for()
    assert _serious(page) == []
    page.get_by_label("Product, line 1").select_option(label="Plan ($11.90, every month)")
    page.get_by_label("Quantity, line 1").fill("2")
    page.get_by_label("Sales agent").select_option(label="Sam Seller")
    page.get_by_role("button", name="Place order").click()
    page.get_by_text("its first invoice is issued and emailed").wait_for()
    assert _serious(page) == []
    page.get_by_role("link", name="Cancel order…").click()
    page.get_by_role("heading", name="Cancel order ORD-00001?").wait_for()
    assert _serious(page) == []
    page.get_by_role("button", name="Cancel the order").click()  # at period end, the default
    page.get_by_text("is cancelled at the end of its period").wait_for()

    page.goto(f"{live_server}/admin/orders")
    page.get_by_role("link", name="ORD-00001").wait_for()
    assert _serious(page) == []
    with app.app_context():
        order = db.session.scalar(select(Order))
        assert order.status == "active" and order.end_date == order.next_billing_date
        assert order.cancelled_at is not None
