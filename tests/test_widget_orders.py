"""Orders in the widget (issue #21 items 5, 7 and 8; SPEC W-7, P-4, P-3): the list and the
detail, New Order with its review and its first invoice, Cancel Order in both modes, Add Sales
Agent, Bill now (once, whatever clicks twice), the host page's events, and the server refusing
each switch when a request is crafted."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_from, widget_login
from widget_server.billing.models import Invoice
from widget_server.catalogue.models import Product
from widget_server.commerce import orders as commerce
from widget_server.commerce.models import ACTIVE, CANCELLED, Order, SalesAgent
from widget_server.commerce.periods import advance
from widget_server.core.extensions import db
from widget_server.customers.models import Customer
from widget_server.profiles.models import SelfServiceProfile
from widget_server.tenancy.models import Merchant

ALL_ON = {"order": {"allow_new_order": True, "allow_cancel_order": True,
                    "allow_add_sales_agent": True},
          "customer": {"enable_customer_billing_run": True}}


def set_tabs(app, p, values: dict):
    """Set settings of the customer's profile, tab by tab."""
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, p.profile_id)
        settings = dict(profile.settings or {})
        for tab, tab_values in values.items():
            settings[tab] = {**settings.get(tab, {}), **tab_values}
        profile.settings = settings
        db.session.commit()


@pytest.fixture
def shop(app, portal):
    """A signed-in customer (p.client) of a merchant with a monthly plan (19 % tax included),
    a one-time setup fee, an active and an inactive sales agent; every order switch on."""
    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        merchant.config = {"business": {"prices_include_tax": True}}
        plan = Product(merchant_id=merchant.id, sku="PLAN", name="Plan", unit_price_minor=1190,
                       currency="USD", tax_rate_bp=1900, interval="month", interval_count=1)
        fee = Product(merchant_id=merchant.id, sku="SETUP", name="Setup", unit_price_minor=5000,
                      currency="USD", tax_rate_bp=1900)
        agent = SalesAgent(merchant_id=merchant.id, name="Sam Seller", email="sam@example.test")
        gone = SalesAgent(merchant_id=merchant.id, name="Old Agent", active=False)
        db.session.add_all([plan, fee, agent, gone])
        db.session.commit()
        p.plan_id, p.fee_id, p.agent_id, p.gone_id = plan.id, fee.id, agent.id, gone.id
    set_tabs(app, p, ALL_ON)
    p.client = app.test_client()
    widget_login(p.client, p.base, p.username, p.password)
    return p


def _hidden(html: str) -> dict:
    return {m[1]: m[2] for m in re.finditer(
        r'<input[^>]*name="([^"]+)"[^>]*type="hidden"[^>]*value="([^"]*)"', html)} | {
        m[2]: m[1] for m in re.finditer(
            r'<input[^>]*id="[^"]*"[^>]*value="([^"]*)"[^>]*name="([^"]+)"', html)}


def _form_key(html: str) -> str:
    return re.search(r'name="form_key"[^>]*value="([^"]*)"', html)[1]


def _order(app, p, **filters) -> Order:
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.merchant_id == p.merchant_id)
                                  .order_by(Order.id.desc()))
        db.session.expunge(order)
        return order


def _count(app, model, **where) -> int:
    with app.app_context():
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return db.session.scalar(stmt)


def place_through_the_page(p, product_id, quantity=1):
    """Pick, review, confirm, as the customer does; returns the confirm answer and the review."""
    page = p.client.get(f"{p.base}/orders/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    form = {"csrf_token": csrf_from(html), "form_key": _form_key(html), "product": product_id,
            f"quantity_{product_id}": quantity}
    review = p.client.post(f"{p.base}/orders/new", data={**form, "step": "review"})
    assert review.status_code == 200, review.get_data(as_text=True)
    confirm = p.client.post(f"{p.base}/orders/new", data={**form, "step": "confirm"})
    return confirm, review.get_data(as_text=True), form


# --- the section ---------------------------------------------------------------------------

def test_the_orders_section_shows_where_new_orders_are_allowed_or_the_customer_has_orders(
        app, shop):
    assert ">Orders<" in shop.client.get(f"{shop.base}/account").get_data(as_text=True)
    set_tabs(app, shop, {"order": {"allow_new_order": False}})  # the agent's form is there
    assert ">Orders<" in shop.client.get(f"{shop.base}/account").get_data(as_text=True)
    set_tabs(app, shop, {"order": {"allow_add_sales_agent": False}})
    assert ">Orders<" not in shop.client.get(f"{shop.base}/account").get_data(as_text=True)
    assert shop.client.get(f"{shop.base}/orders").status_code == 403
    with app.app_context():  # an order the admin placed: the section is back to show it
        merchant = db.session.get(Merchant, shop.merchant_id)
        customer = db.session.get(Customer, shop.customer_id)
        commerce.place(merchant, customer, [commerce.Item(shop.plan_id, 1)], date.today())
        db.session.commit()
    assert ">Orders<" in shop.client.get(f"{shop.base}/account").get_data(as_text=True)
    listed = shop.client.get(f"{shop.base}/orders").get_data(as_text=True)
    assert "ORD-00001" in listed and "every month" in listed and "New order" not in listed
    assert "Attach sales agent" not in listed


def test_the_list_pages_by_keyset_and_keeps_its_query_count(app, shop, count_queries):
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        customer = db.session.get(Customer, shop.customer_id)
        for _ in range(3):
            commerce.place(merchant, customer, [commerce.Item(shop.plan_id, 1)], date.today())
        db.session.commit()
    with count_queries() as few:
        assert shop.client.get(f"{shop.base}/orders").status_code == 200
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        customer = db.session.get(Customer, shop.customer_id)
        for _ in range(22):
            commerce.place(merchant, customer, [commerce.Item(shop.plan_id, 2)], date.today())
        db.session.commit()
    with count_queries() as many:
        first = shop.client.get(f"{shop.base}/orders").get_data(as_text=True)
    assert few.count == many.count, many.statements
    assert "ORD-00025" in first and "ORD-00005" not in first and 'rel="next"' in first
    older = re.search(r'href="([^"]+)" rel="next"', first)[1].replace("&amp;", "&")
    second = shop.client.get(older).get_data(as_text=True)
    assert "ORD-00005" in second and "ORD-00025" not in second and 'rel="prev"' in second


def test_the_detail_shows_lines_tax_dates_agent_and_invoices(app, shop):
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        customer = db.session.get(Customer, shop.customer_id)
        order = commerce.place(merchant, customer, [commerce.Item(shop.plan_id, 2),
                                                    commerce.Item(shop.fee_id, 1)],
                               date.today(), sales_agent_id=shop.agent_id)
        db.session.commit()
        order_id, number = order.id, order.number
        invoice = commerce.invoices_of(merchant, order)[0]
        invoice_id = invoice.id
    html = shop.client.get(f"{shop.base}/orders/{order_id}").get_data(as_text=True)
    assert number in html and "Plan" in html and "Setup" in html and "Sam Seller" in html
    assert "(19 %)" in html and "$3.80" in html  # 2 × 11.90 incl. 19 %: tax 3.80
    assert f"/invoices/{invoice_id}" in html and f"/pay?invoice={invoice_id}" in html
    set_tabs(app, shop, {"invoice": {"enable_pdf_mode_only": True}})
    html = shop.client.get(f"{shop.base}/orders/{order_id}").get_data(as_text=True)
    assert f"/invoices/{invoice_id}.pdf" in html
    set_tabs(app, shop, {"invoice": {"show_invoices": False}})
    html = shop.client.get(f"{shop.base}/orders/{order_id}").get_data(as_text=True)
    assert f"/invoices/{invoice_id}" not in html and invoice.number in html


# --- new order -----------------------------------------------------------------------------

def test_a_new_order_reviews_the_charges_then_issues_its_first_invoice_to_pay(app, shop):
    confirm, review, _ = place_through_the_page(shop, shop.plan_id, 3)
    assert "Charged now: $35.70" in review and "Then $35.70 every month" in review
    assert "$5.70" in review  # the tax of 3 × 11.90 incl. 19 %
    assert confirm.status_code == 302
    order = _order(app, shop)
    assert confirm.location.endswith(f"/orders/{order.id}")
    assert order.status == ACTIVE and order.total_minor == 3570
    with app.app_context():
        invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
        assert invoice.status == "issued" and invoice.total_minor == 3570
        invoice_id = invoice.id
    page = shop.client.get(confirm.location).get_data(as_text=True)
    assert f"Your order {order.number} is placed." in page
    assert f"/pay?invoice={invoice_id}" in page  # pay it right away
    assert '"type": "order-created"' in page.replace("&#34;", '"') or "order-created" in page
    pay = shop.client.get(f"{shop.base}/pay?invoice={invoice_id}")
    assert pay.status_code == 200


def test_a_double_submit_makes_one_order(app, shop):
    first, _, form = place_through_the_page(shop, shop.plan_id)
    again = shop.client.post(f"{shop.base}/orders/new", data={**form, "step": "confirm"})
    assert first.location == again.location
    assert _count(app, Order) == 1 and _count(app, Invoice) == 1


def test_a_new_order_refuses_what_is_not_offered(app, shop, portal):
    page = shop.client.get(f"{shop.base}/orders/new").get_data(as_text=True)
    base = {"csrf_token": csrf_from(page), "form_key": _form_key(page), "step": "confirm"}
    nothing = shop.client.post(f"{shop.base}/orders/new", data=base)
    assert nothing.status_code == 400 and "Choose a product." in nothing.get_data(as_text=True)
    bad = shop.client.post(f"{shop.base}/orders/new", data={
        **base, "product": shop.plan_id, f"quantity_{shop.plan_id}": "0"})
    assert bad.status_code == 400 and "from 1 to 10,000" in bad.get_data(as_text=True)
    other = portal("other", username="o")
    with app.app_context():
        foreign = Product(merchant_id=other.merchant_id, sku="X", name="Foreign",
                          unit_price_minor=100, currency="USD")
        db.session.add(foreign)
        db.session.commit()
        foreign_id = foreign.id
    crossed = shop.client.post(f"{shop.base}/orders/new", data={**base, "product": foreign_id})
    assert crossed.status_code == 400 and _count(app, Order) == 0


# --- cancel --------------------------------------------------------------------------------

def _placed(app, shop, product_id=None) -> int:
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        customer = db.session.get(Customer, shop.customer_id)
        order = commerce.place(merchant, customer, [commerce.Item(product_id or shop.plan_id, 1)],
                               merchant.today())
        db.session.commit()
        return order.id


def test_cancel_at_the_period_end_says_so_then_stops_billing(app, shop):
    order_id = _placed(app, shop)
    page = shop.client.get(f"{shop.base}/orders/{order_id}/cancel")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "runs until" in html and "is not billed again" in html
    done = shop.client.post(f"{shop.base}/orders/{order_id}/cancel",
                            data={"csrf_token": csrf_from(html)})
    assert done.status_code == 302
    order = _order(app, shop)
    assert order.status == ACTIVE and order.cancelled_at and order.end_date == \
        order.next_billing_date
    detail = shop.client.get(f"{shop.base}/orders/{order_id}").get_data(as_text=True)
    assert "order-cancelled" in detail and "Not billed again" in detail
    again = shop.client.post(f"{shop.base}/orders/{order_id}/cancel",
                             data={"csrf_token": csrf_from(detail)})
    assert again.status_code == 409 and "already cancelled" in again.get_data(as_text=True)


def test_cancel_at_once_ends_it_today(app, shop):
    set_tabs(app, shop, {"order": {"cancel_mode": "immediately"}})
    order_id = _placed(app, shop)
    html = shop.client.get(f"{shop.base}/orders/{order_id}/cancel").get_data(as_text=True)
    assert "It ends today; the current period is not refunded." in html
    shop.client.post(f"{shop.base}/orders/{order_id}/cancel",
                     data={"csrf_token": csrf_from(html)})
    order = _order(app, shop)
    assert order.status == CANCELLED and order.next_billing_date is None


# --- sales agent ---------------------------------------------------------------------------

def test_the_list_offers_active_agents_by_name_beside_the_orders_and_their_lines(app, shop,
                                                                                 portal):
    """The orders and the agents come in one statement (#26): each order keeps its own lines
    in their order, the choices are the merchant's active agents by name (another merchant's
    never), and an inactive agent of the customer's own is named as theirs, not offered. A
    page of newer orders (its own statements) offers the same."""
    other = portal("elsewhere", username="zed", emails=("zed@example.test",))
    with app.app_context():
        db.session.add_all([SalesAgent(merchant_id=shop.merchant_id, name="Ada Agent"),
                            SalesAgent(merchant_id=other.merchant_id, name="Aaron Elsewhere")])
        merchant = db.session.get(Merchant, shop.merchant_id)
        customer = db.session.get(Customer, shop.customer_id)
        customer.sales_agent_id = shop.gone_id
        commerce.place(merchant, customer, [commerce.Item(shop.plan_id, 2),
                                            commerce.Item(shop.fee_id, 1)], date.today())
        commerce.place(merchant, customer, [commerce.Item(shop.fee_id, 3)], date.today())
        db.session.commit()
    for query in ("", "?after=0"):
        html = shop.client.get(f"{shop.base}/orders{query}").get_data(as_text=True)
        offered = re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', html)
        assert [name for _, name in offered] == ["Ada Agent", "Sam Seller"]
        assert "Elsewhere" not in html and "selected" not in html
        assert "Your sales agent is Old Agent." in html
        what = re.findall(r'data-label="What">([^<]*)</td>', html)
        assert what == ["Setup × 3", "Plan × 2, Setup"]  # newest first


def test_the_customer_attaches_an_active_sales_agent_only(app, shop):
    html = shop.client.get(f"{shop.base}/orders").get_data(as_text=True)
    assert "Sam Seller" in html and "Old Agent" not in html
    csrf = csrf_from(html)
    refused = shop.client.post(f"{shop.base}/orders/sales-agent",
                               data={"csrf_token": csrf, "sales_agent": shop.gone_id})
    assert refused.status_code == 303
    with app.app_context():
        assert db.session.get(Customer, shop.customer_id).sales_agent_id is None
    assert "Choose one of the listed sales agents." in shop.client.get(
        f"{shop.base}/orders").get_data(as_text=True)
    shop.client.post(f"{shop.base}/orders/sales-agent",
                     data={"csrf_token": csrf, "sales_agent": shop.agent_id})
    with app.app_context():
        assert db.session.get(Customer, shop.customer_id).sales_agent_id == shop.agent_id
    assert "Your sales agent is Sam Seller." in shop.client.get(
        f"{shop.base}/orders").get_data(as_text=True)
    place_through_the_page(shop, shop.plan_id)  # and goes on the customer's new orders
    assert _order(app, shop).sales_agent_id == shop.agent_id


# --- bill now ------------------------------------------------------------------------------

def _due(app, order_id):
    """As if the order had started a month ago: its next period starts today."""
    with app.app_context():
        order = db.session.get(Order, order_id)
        today = db.session.get(Merchant, order.merchant_id).today()
        order.start_date = today - timedelta(days=31)
        order.anchor_day = today.day
        for invoice in db.session.scalars(select(Invoice).where(Invoice.order_id == order_id)):
            invoice.period_start, invoice.period_end = order.start_date, today
        order.next_billing_date = today
        db.session.commit()


def _bill_form(html: str) -> dict:
    """Bill now's form: the token and the period the page offered to bill."""
    return {"csrf_token": csrf_from(html),
            "period": re.search(r'name="period" value="([^"]+)"', html).group(1)}


def test_bill_now_bills_the_next_period_once_and_never_further_ahead(app, shop):
    """Bill now (P-3) bills the period that has come or the next one (the demo customer bills
    the next period of a subscription just ordered); then nothing until that period starts."""
    order_id = _placed(app, shop)
    html = shop.client.get(f"{shop.base}/orders/{order_id}").get_data(as_text=True)
    assert "Bill now" in html  # the next period, a month away, may be billed now
    billed = shop.client.post(f"{shop.base}/orders/{order_id}/bill",
                              data=_bill_form(html), follow_redirects=True)
    page = billed.get_data(as_text=True)
    assert "is issued" in page and "order-changed" in page
    assert _count(app, Invoice, order_id=order_id) == 2
    assert "Bill now" not in page  # the period after waits until the billed one starts
    twice = shop.client.post(f"{shop.base}/orders/{order_id}/bill",
                             data=_bill_form(html), follow_redirects=True)
    assert "Nothing is due yet" in twice.get_data(as_text=True)
    assert _count(app, Invoice, order_id=order_id) == 2
    with app.app_context():
        order = db.session.get(Order, order_id)
        starts = sorted(i.period_start for i in db.session.scalars(
            select(Invoice).where(Invoice.order_id == order_id)))
        assert starts[1] > starts[0]  # the next period, billed ahead
        assert order.next_billing_date > starts[1]


def test_bill_now_bills_a_period_that_has_come(app, shop):
    order_id = _placed(app, shop)
    _due(app, order_id)
    html = shop.client.get(f"{shop.base}/orders/{order_id}").get_data(as_text=True)
    assert "Bill now" in html
    shop.client.post(f"{shop.base}/orders/{order_id}/bill", data=_bill_form(html))
    assert _count(app, Invoice, order_id=order_id) == 2


# --- P-8: each switch refused when crafted --------------------------------------------------

@pytest.mark.parametrize(("tab", "key", "method", "path"), [
    ("order", "allow_new_order", "post", "/orders/new"),
    ("order", "allow_cancel_order", "post", "/orders/{id}/cancel"),
    ("order", "allow_add_sales_agent", "post", "/orders/sales-agent"),
    ("customer", "enable_customer_billing_run", "post", "/orders/{id}/bill"),
])
def test_each_order_switch_is_refused_when_crafted(app, shop, tab, key, method, path):
    order_id = _placed(app, shop)
    _due(app, order_id)
    csrf = csrf_from(shop.client.get(f"{shop.base}/orders").get_data(as_text=True))
    set_tabs(app, shop, {tab: {key: False}})
    answer = shop.client.post(f"{shop.base}{path.format(id=order_id)}", data={
        "csrf_token": csrf, "product": shop.plan_id, "step": "confirm",
        "sales_agent": shop.agent_id})
    assert answer.status_code == 403
    assert _count(app, Order) == 1 and _count(app, Invoice) == 1
    order = _order(app, shop)
    assert order.cancelled_at is None
    with app.app_context():
        assert db.session.get(Customer, shop.customer_id).sales_agent_id is None


def test_the_orders_pages_speak_the_customers_language(app, shop):
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        merchant.config = {**merchant.config, "portal": {"languages": ["de", "fr"]}}
        db.session.commit()
    order_id = _placed(app, shop)
    german = {"Accept-Language": "de-DE,de;q=0.9"}
    listed = shop.client.get(f"{shop.base}/orders", headers=german).get_data(as_text=True)
    assert ">Bestellungen<" in listed and "jeden Monat" in listed and "Aktiv" in listed
    french = {"Accept-Language": "fr-FR,fr;q=0.9"}
    cancel = shop.client.get(f"{shop.base}/orders/{order_id}/cancel",
                             headers=french).get_data(as_text=True)
    assert "Votre abonnement court jusqu’au" in cancel and "n’est plus facturé" in cancel


def test_the_order_page_links_its_change_page_where_plan_changes_are_allowed(app, shop):
    order_id = _placed(app, shop)
    html = shop.client.get(f"{shop.base}/orders/{order_id}").get_data(as_text=True)
    assert 'id="change-order"' not in html
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, shop.profile_id)
        profile.settings = {**profile.settings,
                            "order": {**profile.settings.get("order", {}),
                                      "allow_plan_change": True}}
        db.session.commit()
    html = shop.client.get(f"{shop.base}/orders/{order_id}").get_data(as_text=True)
    assert f'href="{shop.base}/orders/{order_id}/change" id="change-order"' in html


def test_an_order_invoice_names_its_billing_period_on_its_page_and_pdf(app, shop):
    """The service period a German invoice must carry (browser pass, #21): first to last day."""
    import io

    from pypdf import PdfReader

    order_id = _placed(app, shop)
    with app.app_context():
        invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order_id))
        first, last = invoice.period_start, invoice.period_last_day
        invoice_id = invoice.id
    assert last == advance(first, "month", 1, first.day) - timedelta(days=1)
    page = shop.client.get(f"{shop.base}/invoices/{invoice_id}").get_data(as_text=True)
    assert f"Billing period: {first:%b} {first.day}, {first.year} – " in page
    pdf = shop.client.get(f"{shop.base}/invoices/{invoice_id}.pdf")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Billing period:" in text


def test_a_billed_one_time_order_reads_completed_not_ended(app, shop):
    """Browser pass of #22: a one-time order, billed at once, said "Ended" (Beendet) to the
    customer the moment it was bought."""
    confirm, _, _ = place_through_the_page(shop, shop.fee_id, 1)
    assert confirm.status_code == 302
    order = _order(app, shop)
    assert order.status == "ended" and order.interval is None
    assert '<dd id="order-status">Completed</dd>' in shop.client.get(
        confirm.location).get_data(as_text=True)
    listing = shop.client.get(f"{shop.base}/orders").get_data(as_text=True)
    assert '<span class="badge">Completed</span>' in listing and ">Ended<" not in listing
