"""Changing a subscription with proration (issue #21 item 6): the rule against an independent
computation, the first and the last day of a period, the next invoice carrying the proration
once, refusals, and the widget's Change page (its switch, tenant isolation)."""
import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conftest import csrf_from, widget_login
from widget_server.billing.models import Invoice
from widget_server.catalogue.models import Product
from widget_server.commerce import changes, orders
from widget_server.commerce.models import Order, OrderAdjustment, OrderLine
from widget_server.commerce.periods import advance, retreat
from widget_server.core.domain import DomainError
from widget_server.core.events import DomainEvent
from widget_server.core.extensions import db
from widget_server.customers.models import Customer
from widget_server.profiles.models import SelfServiceProfile as Profile
from widget_server.tenancy.models import Merchant

# --- the rule, against an independent computation ------------------------------------------


def _half_away(value: Fraction) -> int:
    """Half away from zero through Decimal, independently of billing.tax."""
    magnitude = (Decimal(abs(value.numerator)) / Decimal(value.denominator)).quantize(
        Decimal(1), ROUND_HALF_UP) if value.denominator < 10**12 else None
    exact = abs(value)
    whole = exact.numerator // exact.denominator
    if exact - whole >= Fraction(1, 2):
        whole += 1
    assert magnitude is None or int(magnitude) == whole
    return whole if value >= 0 else -whole


def _split(amount: int, rate_bp: int, inclusive: bool) -> tuple[int, int, int]:
    """(net, tax, gross) of a line of this priced amount, computed with Fractions."""
    rate = Fraction(rate_bp, 10000)
    if inclusive:
        net = _half_away(Fraction(amount) / (1 + rate))
        return net, amount - net, amount
    tax = _half_away(amount * rate)
    return amount, tax, amount + tax


def _line(unit, quantity, rate, inclusive) -> OrderLine:
    net, tax, gross = _split(unit * quantity, rate, inclusive)
    return OrderLine(id=1, product_id=1, recurring=True, description="Plan",
                     unit_price_minor=unit, quantity=quantity, tax_rate_bp=rate,
                     amount_minor=gross, net_minor=net, tax_minor=tax)


@given(old_unit=st.integers(1, 10**7), old_qty=st.integers(1, 50),
       new_unit=st.integers(1, 10**7), new_qty=st.integers(1, 50),
       old_rate=st.sampled_from([0, 550, 700, 1900, 2000, 2500]),
       new_rate=st.sampled_from([0, 700, 1900, 10000]),
       inclusive=st.booleans(), period=st.sampled_from([("day", 1), ("day", 7), ("week", 1),
                                                         ("week", 2), ("month", 1),
                                                         ("month", 3), ("year", 1)]),
       start=st.dates(date(2000, 1, 1), date(2090, 1, 1)), offset=st.integers(0, 400),
       ahead=st.booleans())
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_proration_follows_the_documented_rule(app, monkeypatch, old_unit, old_qty, new_unit,
                                               new_qty, old_rate, new_rate, inclusive,
                                               period, start, offset, ahead):
    """`ahead`: "Bill now" has invoiced the next period too; it is prorated whole."""
    interval, count = period
    end = advance(start, interval, count, start.day)
    days = (end - start).days
    today = start + timedelta(days=offset % (days + 1))  # first day … the next period's start
    billed_to = advance(end, interval, count, start.day) if ahead else end
    order = Order(id=1, merchant_id=1, customer_id=1, status="active", currency="USD",
                  interval=interval, interval_count=count, anchor_day=start.day,
                  start_date=start - timedelta(days=400), next_billing_date=billed_to)
    order.lines = [_line(old_unit, old_qty, old_rate, inclusive)]
    product = Product(id=2, merchant_id=1, unit_price_minor=new_unit, currency="USD",
                      tax_rate_bp=new_rate, interval=interval, interval_count=count,
                      active=True, name="Pro")
    monkeypatch.setattr(changes, "prices_include_tax", lambda merchant: inclusive)
    monkeypatch.setattr(changes, "_product", lambda merchant, o, pid: product)
    monkeypatch.setattr(changes, "_pending", lambda merchant, o: [])
    merchant = Merchant(id=1)
    change = changes.preview(merchant, order, None, 2, new_qty, today)

    # (days, remaining) of each invoiced period not over: the one in use, the one billed ahead
    spans = [] if ahead and today == end else [(days, (end - today).days)]
    if ahead:
        spans.append(((billed_to - end).days,) * 2)
    remaining = sum(r for _, r in spans)
    assert change.period_days == sum(d for d, _ in spans)
    assert change.remaining_days == remaining
    assert change.billed_ahead == (len(spans) == 2)
    if remaining == 0:
        assert change.credit is None and change.charge is None and change.net_minor == 0
    else:
        credited = -sum(_half_away(Fraction(old_unit * old_qty * r, d)) for d, r in spans)
        charged = sum(_half_away(Fraction(new_unit * new_qty * r, d)) for d, r in spans)
        assert tuple(change.credit.amounts) == _split(credited, old_rate, inclusive)
        assert tuple(change.charge.amounts) == _split(charged, new_rate, inclusive)
        assert change.net_minor == (change.credit.amounts.gross_minor
                                    + change.charge.amounts.gross_minor)
        if spans == [(days, days)]:  # the first day: the whole old line back, the whole new one
            assert change.credit.amounts.gross_minor == -order.lines[0].amount_minor
            assert change.charge.amounts.gross_minor == change.new_line.gross_minor
    assert tuple(change.new_line) == _split(new_unit * new_qty, new_rate, inclusive)
    assert change.next_invoice_minor == change.new_line.gross_minor + change.net_minor


@given(st.dates(date(2000, 1, 1), date(2090, 1, 1)), st.sampled_from(
    [("day", 1), ("day", 30), ("week", 1), ("month", 1), ("month", 2), ("year", 1)]),
    st.integers(1, 30))
def test_retreat_undoes_advance(start, period, steps):
    interval, count = period
    day = start
    for _ in range(steps):
        following = advance(day, interval, count, start.day)
        assert retreat(following, interval, count, start.day) == day
        day = following


# --- the service against the database -------------------------------------------------------


@pytest.fixture
def shop(app, portal):
    """A monthly Plan (11.90 incl. 19 %), a monthly Pro (23.80), a yearly plan, a customer."""
    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        merchant.config = {"business": {"prices_include_tax": True}}
        products = [
            Product(merchant_id=merchant.id, sku="PLAN", name="Plan", unit_price_minor=1190,
                    currency="USD", tax_rate_bp=1900, interval="month", interval_count=1),
            Product(merchant_id=merchant.id, sku="PRO", name="Pro", unit_price_minor=2380,
                    currency="USD", tax_rate_bp=1900, interval="month", interval_count=1),
            Product(merchant_id=merchant.id, sku="YEAR", name="Yearly", unit_price_minor=9900,
                    currency="USD", tax_rate_bp=1900, interval="year", interval_count=1)]
        db.session.add_all(products)
        db.session.commit()
        p.plan_id, p.pro_id, p.year_id = (x.id for x in products)
    return p


def _place(app, shop, start: date, quantity=2, customer_id=None) -> int:
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        customer = db.session.get(Customer, customer_id or shop.customer_id)
        order = orders.place(merchant, customer, [orders.Item(shop.plan_id, quantity)], start)
        db.session.commit()
        return order.id


def _paid(app, order_id) -> None:
    """Every invoice of the order paid (a restart waits for an open one)."""
    with app.app_context():
        for invoice in db.session.scalars(select(Invoice).where(Invoice.order_id == order_id)):
            invoice.status, invoice.balance_minor = "paid", 0
        db.session.commit()


def _change(app, shop, order_id, product_id, quantity, today):
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        order = db.session.get(Order, order_id)
        change = changes.apply(merchant, order, None, product_id, quantity, today)
        db.session.commit()
        return change.net_minor, change.next_invoice_minor


def _bill(app, shop, order_id, today):
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        invoice = orders.bill_due_period(merchant, db.session.get(Order, order_id), today)
        db.session.commit()
        return invoice.id if invoice else None


def test_a_switch_mid_period_is_billed_once_by_the_next_invoice(app, shop):
    order_id = _place(app, shop, date(2027, 3, 1))  # 2 × 11.90, March: 31 days
    net, next_total = _change(app, shop, order_id, shop.pro_id, 1, date(2027, 3, 17))
    # 15 of 31 days remain: −round(2380 × 15 / 31) = −1152, +round(2380 × 15 / 31) = +1152
    assert net == 0 and next_total == 2380
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert order.total_minor == 2380 and order.lines[0].description == "Pro"
        events = db.session.scalars(select(DomainEvent).where(
            DomainEvent.name == "order.changed")).all()
        assert [e.payload["order_id"] for e in events] == [order_id]
    invoice_id = _bill(app, shop, order_id, date(2027, 4, 1))
    assert _bill(app, shop, order_id, date(2027, 4, 1)) is None  # the same period again
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        assert [(x.description, x.amount_minor) for x in invoice.lines] == [
            ("Pro", 2380), ("Unused time on Plan × 2", -1152),
            ("Remaining time on Pro × 1", 1152)]
        assert invoice.total_minor == 2380
        assert all(a.billed_invoice_id == invoice_id for a in db.session.scalars(
            select(OrderAdjustment)))
    later = _bill(app, shop, order_id, date(2027, 5, 1))  # the next period: no proration
    with app.app_context():
        assert [x.description for x in db.session.get(Invoice, later).lines] == ["Pro"]


def test_a_double_submit_changes_once(app, shop):
    order_id = _place(app, shop, date(2027, 3, 1))
    _change(app, shop, order_id, shop.pro_id, 1, date(2027, 3, 10))
    with pytest.raises(DomainError) as caught:
        _change(app, shop, order_id, shop.pro_id, 1, date(2027, 3, 10))
    assert caught.value.code == "unchanged"
    with app.app_context():
        assert len(db.session.scalars(select(OrderAdjustment)).all()) == 2


def test_a_quantity_change_on_the_first_day_credits_and_charges_whole_periods(app, shop):
    order_id = _place(app, shop, date(2027, 3, 1))
    net, next_total = _change(app, shop, order_id, None, 5, date(2027, 3, 1))
    assert net == 5 * 1190 - 2 * 1190 and next_total == 5 * 1190 + net
    invoice_id = _bill(app, shop, order_id, date(2027, 4, 1))
    with app.app_context():
        lines = db.session.get(Invoice, invoice_id).lines
        assert [x.amount_minor for x in lines] == [5950, -2380, 5950]


def test_a_change_on_the_next_periods_first_day_has_no_proration(app, shop):
    order_id = _place(app, shop, date(2027, 3, 1))
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        change = changes.preview(merchant, db.session.get(Order, order_id), None, None, 3,
                                 date(2027, 4, 1))
        assert change.remaining_days == 0 and change.credit is None and change.charge is None
    _change(app, shop, order_id, None, 3, date(2027, 4, 1))
    with app.app_context():
        assert db.session.scalars(select(OrderAdjustment)).all() == []


def test_on_the_last_day_one_day_is_prorated(app, shop):
    order_id = _place(app, shop, date(2027, 3, 1))
    net, _ = _change(app, shop, order_id, None, 3, date(2027, 3, 31))
    assert net == -round(2380 / 31) + round(3570 / 31)  # 1 of 31 days: −77 + 115


def test_a_downgrade_credit_beyond_the_next_invoice_becomes_account_credit(app, shop):
    order_id = _place(app, shop, date(2027, 3, 1), quantity=10)  # 119.00 a month
    _net, next_total = _change(app, shop, order_id, None, 1, date(2027, 3, 1))
    assert next_total == 1190 - 11900 + 1190 < 0
    invoice_id = _bill(app, shop, order_id, date(2027, 4, 1))
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        assert invoice.total_minor == 0 and invoice.status == "paid"
        assert db.session.get(Customer, shop.customer_id).credit_minor == -next_total


def test_refusals(app, shop):
    order_id = _place(app, shop, date(2027, 3, 1))
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        order = db.session.get(Order, order_id)
        for product_id, quantity, code in ((None, 2, "unchanged"), (None, 0, "quantity"),
                                           (None, 10001, "quantity"), (999999, 1, "product")):
            with pytest.raises(DomainError) as caught:
                changes.preview(merchant, order, None, product_id, quantity, date(2027, 3, 5))
            assert caught.value.code == code
        orders.cancel(merchant, order, date(2027, 3, 5), at_period_end=True)
        with pytest.raises(DomainError) as caught:
            changes.preview(merchant, order, None, None, 3, date(2027, 3, 5))
        assert caught.value.code == "not_changeable"


# --- the widget page ------------------------------------------------------------------------


def _switch(app, shop, on: bool):
    with app.app_context():
        profile = db.session.get(Profile, shop.profile_id)
        profile.settings = {**(profile.settings or {}),
                            "order": {**(profile.settings or {}).get("order", {}),
                                      "allow_plan_change": on}}
        db.session.commit()


def test_the_change_page_reviews_then_applies_the_change(app, client, shop):
    order_id = _place(app, shop, date.today())
    _switch(app, shop, True)
    widget_login(client, shop.base, shop.username, shop.password)
    url = f"{shop.base}/orders/{order_id}/change"
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    review = client.post(url, data={"csrf_token": token, "product": str(shop.pro_id),
                                    "quantity": "1", "step": "review"})
    html = review.get_data(as_text=True)
    assert review.status_code == 200 and 'id="proration-credit"' in html and "Confirm" in html
    done = client.post(url, data={"csrf_token": token, "product": str(shop.pro_id),
                                  "quantity": "1", "step": "confirm"})
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(Order, order_id).lines[0].description == "Pro"
    after = client.get(done.headers["Location"])
    assert 'data-event="order-changed"' in after.get_data(as_text=True)


def test_the_change_page_with_the_switch_off_refuses_even_a_crafted_post(app, client, shop):
    order_id = _place(app, shop, date.today())
    widget_login(client, shop.base, shop.username, shop.password)
    token = csrf_from(client.get(f"{shop.base}/profile").get_data(as_text=True))
    answer = client.post(f"{shop.base}/orders/{order_id}/change", data={
        "csrf_token": token, "product": str(shop.pro_id), "quantity": "1", "step": "confirm"})
    assert answer.status_code == 403
    with app.app_context():
        assert db.session.get(Order, order_id).lines[0].description == "Plan"


def test_another_customers_order_is_not_found(app, client, shop):
    with app.app_context():
        other = Customer(merchant_id=shop.merchant_id, first_name="Max", last_name="Roe",
                         custom_fields={})
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    order_id = _place(app, shop, date.today(), customer_id=other_id)
    _switch(app, shop, True)
    widget_login(client, shop.base, shop.username, shop.password)
    url = f"{shop.base}/orders/{order_id}/change"
    assert client.get(url).status_code == 404
    token = csrf_from(client.get(f"{shop.base}/profile").get_data(as_text=True))
    assert client.post(url, data={"csrf_token": token, "quantity": "3",
                                  "step": "confirm"}).status_code == 404
    with app.app_context():
        assert db.session.get(Order, order_id).lines[0].quantity == 2


# --- in Chromium: the page shows the proration that the next invoice then bills -------------


@pytest.mark.browser
def test_in_chromium_the_change_shows_the_proration_the_next_invoice_bills(
        app, chromium, live_server, portal):
    from axe_playwright_python.sync_playwright import Axe

    from tests.order_support import add_subscription
    from widget_server.core.money import format_money

    p = portal()
    order_id = add_subscription(app, p, start=date.today() - timedelta(days=10))
    context = chromium.new_context()
    context.set_default_timeout(8000)
    page = context.new_page()
    page.goto(f"{live_server}{p.standalone}/login")
    page.get_by_label("Username or email").fill(p.username)
    page.get_by_label("Password").fill(p.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()
    page.goto(f"{live_server}{p.standalone}/orders/{order_id}/change")
    page.get_by_label("Plan", exact=True).select_option(label="Pro plan · $23.80")
    page.get_by_label("Quantity").fill("3")
    page.get_by_role("button", name="Review").click()
    page.locator("#proration").wait_for()
    shown = {key: page.locator(f"#proration-{key} td.num").inner_text()
             for key in ("credit", "charge", "net")}
    next_invoice = page.locator("#next-invoice").inner_text()
    violations = [v["id"] for v in Axe().run(page).response["violations"]
                  if v["impact"] in ("serious", "critical")]
    assert violations == []
    page.set_viewport_size({"width": 320, "height": 700})
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
    page.get_by_role("button", name="Confirm the change").click()
    page.get_by_text("Your subscription is changed.").wait_for()
    assert page.get_attribute("body", "data-event") == "order-changed"
    context.close()

    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        order = db.session.get(Order, order_id)
        assert order.lines[0].description == "Pro plan" and order.lines[0].quantity == 3
        invoice = orders.bill_due_period(merchant, order, order.next_billing_date)
        db.session.commit()
        money = {line.description.split(" ")[0]: format_money(line.amount_minor, "USD", "en_US")
                 for line in invoice.lines}
        assert money["Unused"] == shown["credit"] and money["Remaining"] == shown["charge"]
        net = sum(line.amount_minor for line in invoice.lines[1:])
        assert format_money(net, "USD", "en_US") == shown["net"]
        assert format_money(invoice.total_minor, "USD", "en_US") in next_invoice
        assert invoice.lines[0].net_minor == 3 * 2380  # prices without tax here: + 19 %


def test_a_cancelled_subscription_says_it_cannot_be_changed(app, client, shop):
    order_id = _place(app, shop, date.today())
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        orders.cancel(merchant, db.session.get(Order, order_id), date.today(),
                      at_period_end=True)
        db.session.commit()
    _switch(app, shop, True)
    widget_login(client, shop.base, shop.username, shop.password)
    page = client.get(f"{shop.base}/orders/{order_id}/change")
    html = page.get_data(as_text=True)
    assert page.status_code == 409 and "not cancelled can be changed" in html
    assert 'name="quantity"' not in html


def test_bad_input_is_shown_beside_its_field(app, client, shop):
    order_id = _place(app, shop, date.today())
    _switch(app, shop, True)
    widget_login(client, shop.base, shop.username, shop.password)
    url = f"{shop.base}/orders/{order_id}/change"
    token = csrf_from(client.get(url).get_data(as_text=True))
    for data, field in (({"quantity": "abc"}, "quantity"), ({"quantity": "0"}, "quantity"),
                        ({"quantity": "2"}, "quantity"),  # unchanged
                        ({"quantity": "1", "product": "x"}, "product"),
                        ({"quantity": "1", "product": "99999"}, "product")):
        answer = client.post(url, data={"csrf_token": token, "step": "confirm", **data})
        assert answer.status_code == 400, data
        assert f'id="{field}-error"' in answer.get_data(as_text=True), data
    # a crafted line on a one-line order: no line field to stand beside, so above the form
    answer = client.post(url, data={"csrf_token": token, "step": "confirm", "line": "999",
                                    "quantity": "3"})
    assert answer.status_code == 400
    assert re.search(r'id="change-error">Choose one of the subscription', answer.get_data(
        as_text=True))
    with app.app_context():
        assert db.session.get(Order, order_id).lines[0].quantity == 2


@pytest.mark.browser
def test_in_the_cross_site_iframe_order_changed_reaches_the_host_page(
        app, live_server, portal, page, host_site):
    """The host page (127.0.0.1) hears `order-changed` with the order and its new amount from
    the widget (localhost) in its iframe."""
    import json
    import re

    from tests.order_support import add_subscription

    p = portal(config={"embedding": {"allowed_origins": [host_site.origin]}})
    order_id = add_subscription(app, p, start=date.today() - timedelta(days=3))
    host = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>'
            f'</head><body><div id="box" data-box></div><ol id="log"></ol>'
            f'<script src="{live_server}/embed/loader.js" data-merchant="{p.slug}" '
            f'data-profile="standard" data-target="#box" async></script><script>'
            'document.getElementById("box").addEventListener("myaccount:order-changed",'
            ' function (e) { var li = document.createElement("li");'
            ' li.textContent = JSON.stringify(e.detail);'
            ' document.getElementById("log").appendChild(li); });</script></body></html>')
    page.goto(host_site.page("/host", host))
    frame = page.frame_locator("#box iframe")
    frame.get_by_label("Username or email").fill(p.username)
    frame.get_by_label("Password").fill(p.password)
    frame.get_by_role("button", name="Sign in").press("Enter")
    frame.get_by_role("heading", name="Hello, Jane").wait_for()
    widget = next(f for f in page.frames if re.search(r"/w/", f.url))
    widget.goto(f"{live_server}/w/{p.slug}/standard/orders/{order_id}/change")
    frame.get_by_label("Quantity").fill("4")
    frame.get_by_role("button", name="Review").press("Enter")
    frame.locator("#proration-net").wait_for()
    # keys, not clicks: the frame resizes as pages change, moving buttons from under a click
    frame.get_by_role("button", name="Confirm the change").press("Enter")
    page.wait_for_function("document.querySelectorAll('#log li').length >= 1")
    [detail] = [json.loads(t) for t in page.locator("#log li").all_inner_texts()]
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert detail == {"order_id": order_id, "number": order.number, "status": "active",
                          "amount": f"{order.total_minor / 100:.2f}",
                          "amount_minor": order.total_minor, "currency": "USD", "quantity": 4,
                          "product_id": p.plan_id, "proration_minor": detail["proration_minor"]}
        assert order.lines[0].quantity == 4 and detail["proration_minor"] > 0


def test_a_change_after_bill_now_prorates_the_period_in_use_and_the_one_billed_ahead(app, shop):
    """A browser pass found a change after "Bill now" prorating the invoiced next period and
    not the one in use (an upgrade free for the rest of the month); the issue's walk changes
    the quantity right after "Bill now": both invoiced periods are prorated, and the
    adjustment rides on the invoice after the one billed ahead."""
    today = date.today()
    order_id = _place(app, shop, today)
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        order = db.session.get(Order, order_id)
        in_use = changes.current_period(order)
        assert orders.bill_due_period(merchant, order, today, ahead=True) is not None
        db.session.commit()
        ahead = changes.current_period(order)
        assert changes.billed_periods(order, today) == [in_use, ahead]
        change = changes.apply(merchant, order, None, None, 3, today)
        db.session.commit()
        unit = change.line.unit_price_minor
        in_use_days, ahead_days = ((e - s).days for s, e in (in_use, ahead))
        left = (in_use[1] - today).days
        assert change.billed_ahead and change.remaining_days == left + ahead_days
        assert change.credit.unit_price_minor == -(
            changes.prorate(unit * 2, left, in_use_days) + unit * 2)
        assert change.charge.unit_price_minor == changes.prorate(unit * 3, left, in_use_days) \
            + unit * 3
        # billed on the invoice of the period after the one billed ahead, once
        assert orders.bill_due_period(merchant, order, ahead[1]) is not None
        db.session.commit()
        last = db.session.scalars(select(Invoice).where(Invoice.order_id == order_id)
                                  .order_by(Invoice.period_start.desc())).first()
        assert last.period_start == ahead[1]
        assert sum(x.amount_minor for x in last.lines) == change.next_invoice_minor


def test_the_order_page_says_what_a_change_still_bills_even_after_a_cancel(app, client, shop):
    """A browser pass found a confirmed change's charge shown nowhere, and a subscription
    cancelled at its period's end saying "not billed again" while a last invoice was to carry
    that charge. The review lists the very lines the invoice will carry."""
    order_id = _place(app, shop, date.today())
    _switch(app, shop, True)
    with app.app_context():
        profile = db.session.get(Profile, shop.profile_id)
        profile.settings = {**profile.settings, "order": {
            **profile.settings["order"], "allow_cancel_order": True}}
        db.session.commit()
    widget_login(client, shop.base, shop.username, shop.password)
    url = f"{shop.base}/orders/{order_id}/change"
    page = client.get(url).get_data(as_text=True)
    assert "Current plan: Plan × 2, $23.80 every month." in page  # the period named
    token = csrf_from(page)
    review = client.post(url, data={"csrf_token": token, "product": str(shop.pro_id),
                                    "quantity": "2", "step": "review"}).get_data(as_text=True)
    assert "it costs $47.60 every month." in review
    client.post(url, data={"csrf_token": token, "product": str(shop.pro_id), "quantity": "2",
                           "step": "confirm"})
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        order = db.session.get(Order, order_id)
        pending = changes.pending_minor(merchant, order)
        stored = [a.description for a in db.session.scalars(select(OrderAdjustment).where(
            OrderAdjustment.order_id == order_id))]
    assert pending > 0 and all(text in review for text in stored)
    amount = f"${pending / 100:,.2f}"
    page = client.get(f"{shop.base}/orders/{order_id}").get_data(as_text=True)
    assert f"with plan changes of {amount}" in page
    cancel = f"{shop.base}/orders/{order_id}/cancel"
    asked = client.get(cancel).get_data(as_text=True)
    assert f"Your plan change of {amount} is still billed then, on a last invoice on" in asked
    token = csrf_from(asked)
    done = client.post(cancel, data={"csrf_token": token}, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert f"its plan changes, {amount}, are billed then, on a last invoice" in html
    assert f"a last invoice for the plan changes, {amount}" in html
    assert "Not billed again" not in html


# --- a switch to another billing period: the subscription restarts today -------------------


def test_a_switch_to_another_period_restarts_the_subscription_today(app, shop):
    """Monthly Plan × 2 (23.80) from 1 March, switched to Yearly on 11 March: 21 of 31 days
    unused are credited; a new yearly order starts that day, its first invoice the year less
    the credit; the monthly order ends that day, nothing of it left to bill."""
    order_id = _place(app, shop, date(2027, 3, 1))
    today = date(2027, 3, 11)
    _paid(app, order_id)
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        order = db.session.get(Order, order_id)
        preview = changes.preview(merchant, order, None, shop.year_id, 1, today)
        assert preview.restart and preview.charge is None and preview.remaining_days == 21
        assert preview.credit.amount_minor == -changes.prorate(2380, 21, 31) == -1612
        assert preview.next_invoice_minor == 9900 - 1612
        assert preview.next_invoice_date == today
        change = changes.apply(merchant, order, None, shop.year_id, 1, today)
        db.session.commit()
        old, new = db.session.get(Order, order_id), change.new_order
        assert (old.status, old.end_date, old.next_billing_date) == ("ended", today, None)
        assert (new.interval, new.interval_count, new.start_date) == ("year", 1, today)
        assert new.next_billing_date == date(2028, 3, 11) and new.customer_id == old.customer_id
        assert [(x.description, x.quantity) for x in new.lines] == [("Yearly", 1)]
        [invoice] = db.session.scalars(select(Invoice).where(Invoice.order_id == new.id)).all()
        assert (invoice.period_start, invoice.period_end) == (today, date(2028, 3, 11))
        assert invoice.total_minor == change.next_invoice_minor == 8288
        assert changes.pending_minor(merchant, old) == 0  # carried, not left behind
        assert orders.bill_due_period(merchant, old, date(2027, 4, 1)) is None


def test_a_restart_carries_earlier_changes_and_a_first_day_credits_the_whole_period(app, shop):
    today = date.today()
    order_id = _place(app, shop, today)  # its first period starts today
    _paid(app, order_id)
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        order = db.session.get(Order, order_id)
        first = changes.apply(merchant, order, None, None, 3, today)  # pending: +1 period
        db.session.commit()
        change = changes.apply(merchant, order, None, shop.year_id, 1, today)
        db.session.commit()
        assert change.credit.amount_minor == -3570  # the whole month at 3 × 11.90
        [invoice] = db.session.scalars(select(Invoice).where(
            Invoice.order_id == change.new_order.id)).all()
        assert invoice.total_minor == 9900 + first.net_minor - 3570
        assert invoice.total_minor == change.next_invoice_minor


def test_with_two_plans_a_switch_to_another_period_is_ordered_separately(app, shop):
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        customer = db.session.get(Customer, shop.customer_id)
        order = orders.place(merchant, customer, [orders.Item(shop.plan_id, 1),
                                                  orders.Item(shop.pro_id, 1)], date(2027, 3, 1))
        db.session.commit()
        assert shop.year_id not in {p.id for p in changes.changeable_products(merchant, order)}
        with pytest.raises(DomainError) as caught:
            changes.preview(merchant, order, order.lines[0].id, shop.year_id, 1,
                            date(2027, 3, 5))
        assert caught.value.code == "product_period"
        assert "different period" in caught.value.message


def test_the_change_page_offers_another_period_and_restarts_on_confirm(app, client, shop):
    order_id = _place(app, shop, date.today())
    _paid(app, order_id)
    _switch(app, shop, True)
    widget_login(client, shop.base, shop.username, shop.password)
    url = f"{shop.base}/orders/{order_id}/change"
    page = client.get(url).get_data(as_text=True)
    assert re.search(r">Yearly · \$99\.00 every year<", page)
    token = csrf_from(page)
    review = client.post(url, data={"csrf_token": token, "product": str(shop.year_id),
                                    "quantity": "1", "step": "review"})
    html = review.get_data(as_text=True)
    assert review.status_code == 200 and 'id="restart"' in html
    assert "starts again today" in html and "Invoiced today" in html
    assert "$75.20" in html  # 99.00 less the whole month just begun (2 × 11.90)
    done = client.post(url, data={"csrf_token": token, "product": str(shop.year_id),
                                  "quantity": "1", "step": "confirm"})
    assert done.status_code == 302
    with app.app_context():
        old = db.session.get(Order, order_id)
        new = db.session.scalars(select(Order).where(Order.id != order_id)).one()
        [invoice] = db.session.scalars(select(Invoice).where(Invoice.order_id == new.id)).all()
    assert old.status == "ended" and new.interval == "year"
    assert done.headers["Location"].endswith(f"/orders/{new.id}")
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert f"Your new subscription {new.number} starts today; {old.number} ends today." in after
    assert 'data-event="order-changed"' in after and invoice.number in after
    assert invoice.total_minor == 7520 and "Pay $75.20" in after


def test_a_restart_keeps_the_sales_agent_while_active(app, shop):
    from widget_server.commerce.models import SalesAgent

    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        customer = db.session.get(Customer, shop.customer_id)
        active, gone = (SalesAgent(merchant_id=merchant.id, name=name, email=f"{name}@x.test")
                        for name in ("ann", "bob"))
        db.session.add_all([active, gone])
        db.session.flush()
        first, second = (orders.place(merchant, customer, [orders.Item(shop.plan_id, 1)],
                                      date(2027, 3, 1), sales_agent_id=agent.id)
                         for agent in (active, gone))
        gone.active = False
        for invoice in db.session.scalars(select(Invoice)):
            invoice.status, invoice.balance_minor = "paid", 0
        db.session.commit()
        kept = changes.apply(merchant, first, None, shop.year_id, 1, date(2027, 3, 9))
        dropped = changes.apply(merchant, second, None, shop.year_id, 1, date(2027, 3, 9))
        assert kept.new_order.sales_agent_id == active.id
        assert dropped.new_order.sales_agent_id is None


def test_a_restart_waits_for_the_open_invoice(app, shop):
    """Crediting unused time of an invoice not paid (a cart's checkout may yet withdraw it)
    would be credit for nothing (found by a review)."""
    order_id = _place(app, shop, date(2027, 3, 1))
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        order = db.session.get(Order, order_id)
        with pytest.raises(DomainError) as caught:
            changes.apply(merchant, order, None, shop.year_id, 1, date(2027, 3, 11))
        assert caught.value.code == "unpaid" and caught.value.status == 409
        db.session.rollback()
        assert db.session.get(Order, order_id).status == "active"
        assert changes.preview(merchant, order, None, None, 3, date(2027, 3, 11)).credit


def test_an_order_not_started_is_changed_without_proration_and_keeps_its_start(app, shop):
    """Nothing of an order starting later has been invoiced: no credit, no charge (a review
    found a credit for the period before its start), and a restart starts on that day."""
    today, start = date(2027, 3, 1), date(2027, 3, 11)
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        customer = db.session.get(Customer, shop.customer_id)
        order = orders.place(merchant, customer, [orders.Item(shop.plan_id, 2)], today,
                             start=start)
        db.session.commit()
        assert changes.billed_periods(order, today) == []
        change = changes.preview(merchant, order, None, None, 3, today)
        assert (change.credit, change.charge, change.net_minor) == (None, None, 0)
        restart = changes.apply(merchant, order, None, shop.year_id, 1, today)
        db.session.commit()
        assert restart.credit is None and restart.new_order.start_date == start
        assert restart.new_order.next_billing_date == start  # billed by the run on the day
        assert db.session.scalars(select(Invoice).where(
            Invoice.order_id == restart.new_order.id)).all() == []


def test_a_quantity_change_keeps_the_period_when_the_catalogue_product_changed_its(app, shop):
    """Only a product chosen anew restarts: a merchant editing the product's period does not
    turn the customer's quantity change into a new subscription (found by a review)."""
    order_id = _place(app, shop, date(2027, 3, 1))
    _paid(app, order_id)
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        db.session.get(Product, shop.plan_id).interval = "year"
        db.session.commit()
        order = db.session.get(Order, order_id)
        change = changes.apply(merchant, order, None, None, 3, date(2027, 3, 11))
        db.session.commit()
        assert not change.restart and change.new_order is None
        order = db.session.get(Order, order_id)
        assert (order.status, order.interval, order.lines[0].quantity) == ("active", "month", 3)


def test_a_restart_after_bill_now_credits_the_period_billed_ahead_too(app, shop):
    today = date.today()
    order_id = _place(app, shop, today - timedelta(days=5))
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        order = db.session.get(Order, order_id)
        in_use = changes.current_period(order)
        assert orders.bill_due_period(merchant, order, today, ahead=True) is not None
        db.session.commit()
    _paid(app, order_id)
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        order = db.session.get(Order, order_id)
        ahead = changes.current_period(order)
        change = changes.apply(merchant, order, None, shop.year_id, 1, today)
        db.session.commit()
        days, left = (in_use[1] - in_use[0]).days, (in_use[1] - today).days
        assert change.credit.amount_minor == -(changes.prorate(2380, left, days) + 2380)
        assert ahead[1] > ahead[0] > today
        [invoice] = db.session.scalars(select(Invoice).where(
            Invoice.order_id == change.new_order.id)).all()
        assert invoice.total_minor == max(9900 + change.credit.amount_minor, 0)


def test_a_restart_while_billing_is_behind_charges_the_days_used(app, shop):
    """The run has not billed the period that began 10 days ago: those days are charged on the
    new subscription's first invoice, rather than never billed (found by a review)."""
    today = date(2027, 4, 11)
    order_id = _place(app, shop, date(2027, 3, 1))  # next billing date 1 April: due, unbilled
    _paid(app, order_id)
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        order = db.session.get(Order, order_id)
        assert order.next_billing_date == date(2027, 4, 1)
        change = changes.apply(merchant, order, None, shop.year_id, 1, today)
        db.session.commit()
        assert change.credit is None  # nothing invoiced reaches past today
        assert change.charge.amount_minor == changes.prorate(2380, 10, 30) == 793  # 1–10 April
        assert "not yet invoiced" in change.charge.description
        [invoice] = db.session.scalars(select(Invoice).where(
            Invoice.order_id == change.new_order.id)).all()
        assert invoice.total_minor == 9900 + 793 == change.next_invoice_minor


def test_a_credit_beyond_the_new_invoice_is_carried_in_the_customers_language(app, shop):
    """A yearly plan switched to a monthly one early: the credit exceeds the first month, and
    the invoice's line saying where the rest went is in the German customer's language (a
    browser pass found it in English on a German invoice)."""
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        merchant.locale = "de_DE"
        customer = db.session.get(Customer, shop.customer_id)
        order = orders.place(merchant, customer, [orders.Item(shop.year_id, 1)],
                             date(2027, 3, 1))
        db.session.commit()
        order_id = order.id
    _paid(app, order_id)
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        change = changes.apply(merchant, db.session.get(Order, order_id), None, shop.plan_id,
                               1, date(2027, 3, 2))
        db.session.commit()
        [invoice] = db.session.scalars(select(Invoice).where(
            Invoice.order_id == change.new_order.id)).all()
        carried = invoice.lines[-1]
        assert carried.description == "Auf Ihr Konto übertragenes Guthaben"
        assert invoice.total_minor == 0 and carried.amount_minor == -change.next_invoice_minor
        assert db.session.get(Customer, shop.customer_id).credit_minor == carried.amount_minor
