"""Bill now and New Order clicked twice, or in two tabs at once (issue #21 item 5): one invoice
for the period, one order for the form. Real concurrent HTTP requests against the threaded
live server, on SQLite and (in CI) PostgreSQL, as tests/test_checkout_race.py does."""
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_from
from tests.test_checkout_race import Tab, _submit_at_once
from widget_server.billing.models import Invoice
from widget_server.commerce.models import Order
from widget_server.core.extensions import db

from .test_widget_orders import _due, _form_key, _placed, shop  # noqa: F401


def _invoices(app, order_id) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Invoice)
                                 .where(Invoice.order_id == order_id))


@pytest.mark.parametrize("tabs", [2, 6])
def test_bill_now_clicked_at_once_in_several_tabs_makes_one_invoice(app, shop, live_server,  # noqa: F811
                                                                    tabs):
    order_id = _placed(app, shop)
    _due(app, order_id)
    tab = Tab(live_server + shop.base)
    tab.sign_in(shop.username, shop.password)
    page = tab.get(f"/orders/{order_id}")
    assert page.status_code == 200 and "Bill now" in page.text
    form = {"csrf_token": csrf_from(page.text),  # and the period the page offered to bill
            "period": re.search(r'name="period" value="([^"]+)"', page.text).group(1)}

    answers = _submit_at_once([form] * tabs, tab, f"/orders/{order_id}/bill")

    assert [a.status_code for a in answers] == [303] * tabs
    assert _invoices(app, order_id) == 2  # the first period's, and this one: once
    with app.app_context():
        order = db.session.get(Order, order_id)
        starts = sorted(db.session.scalars(select(Invoice.period_start)
                                           .where(Invoice.order_id == order_id)))
        assert order.next_billing_date > starts[-1] and len(set(starts)) == 2


def test_confirm_clicked_twice_at_once_places_one_order(app, shop, live_server):  # noqa: F811
    tab = Tab(live_server + shop.base)
    tab.sign_in(shop.username, shop.password)
    page = tab.get("/orders/new")
    form = {"csrf_token": csrf_from(page.text), "form_key": _form_key(page.text),
            "product": shop.plan_id, f"quantity_{shop.plan_id}": "1", "step": "confirm"}

    answers = _submit_at_once([form] * 3, tab, "/orders/new")

    assert [a.status_code for a in answers] == [302] * 3
    assert len({a.headers["Location"] for a in answers}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1
        assert db.session.scalar(select(func.count()).select_from(Invoice)) == 1


def test_a_switch_to_another_period_confirmed_at_once_restarts_once(app, shop, live_server):  # noqa: F811
    """Confirm of a monthly-to-yearly switch sent three times at once: one new subscription,
    one first invoice, one credit (the order row is locked; the others find it ended)."""
    from widget_server.catalogue.models import Product
    from widget_server.commerce.models import OrderAdjustment

    from .test_widget_orders import ALL_ON, set_tabs

    set_tabs(app, shop, {**ALL_ON, "order": {**ALL_ON["order"], "allow_plan_change": True}})
    order_id = _placed(app, shop)
    with app.app_context():
        yearly = Product(merchant_id=shop.merchant_id, sku="YEAR", name="Yearly",
                         unit_price_minor=9900, currency="USD", tax_rate_bp=1900,
                         interval="year", interval_count=1)
        db.session.add(yearly)
        for invoice in db.session.scalars(select(Invoice).where(Invoice.order_id == order_id)):
            invoice.status, invoice.balance_minor = "paid", 0
        db.session.commit()
        yearly_id = yearly.id
    tab = Tab(live_server + shop.base)
    tab.sign_in(shop.username, shop.password)
    page = tab.get(f"/orders/{order_id}/change")
    form = {"csrf_token": csrf_from(page.text), "product": str(yearly_id), "quantity": "1",
            "step": "confirm"}

    answers = _submit_at_once([form] * 3, tab, f"/orders/{order_id}/change")

    assert [a.status_code for a in answers].count(302) == 1
    with app.app_context():
        orders = db.session.scalars(select(Order).order_by(Order.id)).all()
        assert [o.status for o in orders] == ["ended", "active"]
        assert _invoices(app, orders[1].id) == 1
        assert db.session.scalar(select(func.count()).select_from(OrderAdjustment)) == 1
