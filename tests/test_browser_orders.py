"""Orders in real Chromium inside the cross-site iframe (issue #21 items 5 and 7): the host page
on 127.0.0.1 embeds the widget from localhost; the customer orders a subscription, sees its
first invoice, pays it with the sandbox card, and cancels at the end of the period. The host
page hears order-created, payment-succeeded and order-cancelled.

Inside the frame, links and buttons are pressed with keys (Enter; Space for a choice): a click
aims at a place, which the frame, resized as each page reports its height, can move (a click on
"Cancel order" was lost once in CI)."""
import re

import pytest
from sqlalchemy import select

from tests.order_support import switch_orders_on
from tests.test_browser_embed import _events_of, _sign_in, shop  # noqa: F401
from widget_server.billing.models import Invoice
from widget_server.catalogue.models import Product
from widget_server.commerce.models import ACTIVE, Order
from widget_server.core.extensions import db
from widget_server.tenancy.models import Merchant

pytestmark = pytest.mark.browser


def _wait_event(page, type_):
    page.wait_for_function("[...document.querySelectorAll('#log li')]"
                           f".some(li => li.textContent.startsWith('box-0 {type_} '))")
    return _events_of(page, "box-0", type_)[-1]


def test_new_order_first_invoice_paid_then_cancelled_at_period_end(app, shop):  # noqa: F811
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        merchant.config = {**merchant.config, "business": {"prices_include_tax": True}}
        db.session.add(Product(merchant_id=merchant.id, sku="PLAN", name="Monthly plan",
                               unit_price_minor=1190, currency="USD", tax_rate_bp=1900,
                               interval="month"))
        db.session.commit()
    switch_orders_on(app, shop)
    page = shop.open_host()
    frame = page.frame_locator("#box-0 iframe")
    _sign_in(frame, shop.username, shop.password)
    frame.get_by_role("heading", name="Hello, Jane").wait_for()

    frame.get_by_role("link", name="Orders", exact=True).press("Enter")
    frame.get_by_role("heading", name="Orders").wait_for()
    frame.get_by_role("link", name="New order").press("Enter")
    frame.get_by_label("Monthly plan", exact=False).first.press("Space")
    frame.get_by_label("Quantity of Monthly plan").fill("2")
    frame.get_by_role("button", name="Review").press("Enter")
    frame.get_by_role("heading", name="Review your order").wait_for()
    assert "Charged now: $23.80" in frame.locator("#charged-now").inner_text()
    assert "Then $23.80 every month" in frame.locator("#charged-then").inner_text()
    frame.get_by_role("button", name="Confirm order").press("Enter")

    created = _wait_event(page, "order-created")
    with app.app_context():
        order = db.session.scalar(select(Order))
        invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
        order_id, number, invoice_id = order.id, order.number, invoice.id
        next_billing = order.next_billing_date.isoformat()
    assert created == {"order_id": order_id, "number": number, "status": "active",
                       "amount": "23.80", "amount_minor": 2380, "currency": "USD",
                       "next_billing_date": next_billing}
    frame.get_by_text(f"Your order {number} is placed.").wait_for()

    frame.get_by_role("link", name="Pay $23.80").press("Enter")  # the first invoice, right away
    frame.get_by_role("heading", name="Make a payment").wait_for()
    assert frame.locator(f"#invoice-{invoice_id}").is_checked()
    frame.get_by_label("Card number").fill("4242 4242 4242 4242")
    frame.get_by_label("Expiry (MM/YY)").fill("12/39")
    frame.get_by_label("Security code").fill("123")
    frame.get_by_role("button", name=re.compile(r"^Pay .*\d")).press("Enter")
    paid = _wait_event(page, "payment-succeeded")
    assert paid["invoices"] == [{"id": invoice_id, "number": paid["invoices"][0]["number"]}]
    assert paid["amount_minor"] == 2380

    frame.get_by_role("link", name="Orders", exact=True).press("Enter")
    frame.get_by_role("link", name=number).press("Enter")
    frame.get_by_role("heading", name=f"Order {number}").wait_for()
    assert "Paid" in frame.locator("#order-invoices").inner_text()
    frame.get_by_role("link", name="Cancel order").press("Enter")
    effect = frame.locator("#cancel-effect").inner_text()
    assert "runs until" in effect and "is not billed again" in effect
    frame.get_by_role("button", name="Cancel order").press("Enter")
    cancelled = _wait_event(page, "order-cancelled")
    assert cancelled["order_id"] == order_id and cancelled["at_period_end"] is True
    assert cancelled["status"] == "active"  # it runs until the period's end
    frame.get_by_text("Not billed again", exact=True).wait_for()
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert order.status == ACTIVE and order.end_date == order.next_billing_date
        assert order.cancelled_at is not None


def test_a_lines_period_hint_stays_under_its_name_at_320_px(app, live_server, portal, page):
    """Two browser passes of #22/#23: at phone width "(once)" sat alone under the "Item" label
    of a stacked line, apart from the product it qualifies."""
    from tests.order_support import add_order

    p = portal()
    switch_orders_on(app, p)
    order_id = add_order(app, p)
    page.set_viewport_size({"width": 320, "height": 740})
    page.goto(f"{live_server}{p.standalone}/login")
    _sign_in(page, p.username, p.password)
    page.get_by_role("button", name="Sign out").wait_for()
    page.goto(f"{live_server}{p.standalone}/orders/{order_id}")
    cell = page.locator("td[data-label='Item']").first
    hint = cell.locator(".hint")
    label_right = cell.evaluate(
        "td => td.getBoundingClientRect().left + parseFloat(getComputedStyle(td, '::before')"
        ".width)")
    assert hint.bounding_box()["x"] >= label_right, (hint.bounding_box(), label_right)
