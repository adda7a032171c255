"""Orders and sales agents in the admin (issue #21 item 3), "Run billing now" and
`flask billing-run` (item 4): list and filters in a constant number of statements, detail with
its invoices, placing (today or a later start, typed in the merchant's date format), cancelling
at period end or at once, agents' CRUD, CSRF and another merchant's ids."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_from
from widget_server.billing.models import Invoice
from widget_server.catalogue.models import Product
from widget_server.commerce import billing_run, orders
from widget_server.commerce.models import ACTIVE, CANCELLED, Order, SalesAgent
from widget_server.core.extensions import db
from widget_server.customers.models import Customer
from widget_server.jobs.models import Job
from widget_server.tenancy.models import Merchant

OWNER = ("owner@acme.test", "owner-pass-123")


@pytest.fixture
def shop(app, portal):
    """Merchant acme (en_US: dates typed MM/DD/YYYY): a monthly plan with 19 % tax included,
    a one-time setup fee, a customer and an active sales agent."""
    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        merchant.config = {"business": {"prices_include_tax": True}}
        plan = Product(merchant_id=merchant.id, sku="PLAN", name="Plan", unit_price_minor=1190,
                       currency="USD", tax_rate_bp=1900, interval="month", interval_count=1)
        fee = Product(merchant_id=merchant.id, sku="SETUP", name="Setup", unit_price_minor=5000,
                      currency="USD", tax_rate_bp=1900)
        agent = SalesAgent(merchant_id=merchant.id, name="Sam Seller", email="sam@acme.test")
        db.session.add_all([plan, fee, agent])
        db.session.commit()
        p.plan_id, p.fee_id, p.agent_id = plan.id, fee.id, agent.id
    return p


@pytest.fixture
def admin(shop, browser_like):
    assert browser_like.login(*OWNER).status_code == 302
    return browser_like


def _place(app, shop, *, customer_id=None, start=None, agent=None) -> int:
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        customer = db.session.get(Customer, customer_id or shop.customer_id)
        order = orders.place(merchant, customer, [orders.Item(shop.plan_id, 1)],
                             start or merchant.today(), sales_agent_id=agent)
        db.session.commit()
        return order.id


def _us(day: date) -> str:
    return day.strftime("%m/%d/%Y")


def test_the_admin_places_an_order_starting_today_and_its_first_invoice_is_issued(
        app, shop, admin):
    url = f"/admin/customers/{shop.customer_id}/orders/new"
    page = admin.client.get(url).get_data(as_text=True)
    assert "Plan ($11.90, every month)" in page and "Sam Seller" in page
    assert f'value="{_us(date.today())}"' in page  # today by default, in the merchant's format
    answer = admin.submit(url, {"product_0": str(shop.plan_id), "quantity_0": "2",
                                "product_1": str(shop.fee_id), "quantity_1": "1",
                                "start": _us(date.today()), "sales_agent": str(shop.agent_id)})
    assert answer.status_code == 302
    detail = admin.client.get(answer.headers["Location"])
    text = detail.get_data(as_text=True)
    assert "ORD-00001" in text and "every month" in text and "Sam Seller" in text
    assert "$3.80 (19 %)" in text  # the plan line's tax: 23.80 with 19 % included
    with app.app_context():
        order = db.session.scalar(select(Order))
        [invoice] = db.session.scalars(select(Invoice).where(Invoice.order_id == order.id))
        assert order.sales_agent_id == shop.agent_id and invoice.status == "issued"
        assert invoice.total_minor == 2 * 1190 + 5000
    assert f'href="/admin/invoices/{invoice.id}"' in text
    assert _us(order.next_billing_date) in text


def test_an_order_starting_later_bills_nothing_now_and_its_first_period_on_the_day(
        app, shop, admin):
    start = date.today() + timedelta(days=10)
    url = f"/admin/customers/{shop.customer_id}/orders/new"
    answer = admin.submit(url, {"product_0": str(shop.plan_id), "quantity_0": "1",
                                "start": _us(start)}, follow=True)
    assert f"its first period is billed on {_us(start)}" in answer.get_data(as_text=True)
    with app.app_context():
        order = db.session.scalar(select(Order))
        assert (order.start_date, order.next_billing_date, order.invoice_id) == (start, start,
                                                                                 None)
        assert db.session.scalar(select(func.count(Invoice.id))) == 0
        merchant = db.session.get(Merchant, shop.merchant_id)
        assert orders.bill_due_period(merchant, order, date.today()) is None
        assert billing_run.run().invoices == 0  # not due yet
        order_id = order.id
    confirm = admin.client.get(f"/admin/orders/{order_id}/cancel").get_data(as_text=True)
    assert f"The order has not started yet (it starts on {_us(start)})" in confirm
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        order = db.session.get(Order, order_id)
        invoice = orders.bill_due_period(merchant, order, start)  # on the day
        assert invoice.period_start == start and order.next_billing_date > start


@pytest.mark.parametrize("start, message", [
    ("31/12/2030", "Enter the date as MM/DD/YYYY."),
    ("01/01/2020", "The start date cannot be in the past."),
])
def test_a_bad_start_date_is_refused_next_to_the_field(app, shop, admin, start, message):
    answer = admin.submit(f"/admin/customers/{shop.customer_id}/orders/new",
                          {"product_0": str(shop.plan_id), "quantity_0": "1", "start": start})
    assert answer.status_code == 400
    assert message in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 0


def test_an_order_needs_a_product_and_a_sensible_quantity(app, shop, admin):
    url = f"/admin/customers/{shop.customer_id}/orders/new"
    assert "Choose at least one product." in admin.submit(url, {}).get_data(as_text=True)
    bad = admin.submit(url, {"product_0": str(shop.plan_id), "quantity_0": "0"})
    assert bad.status_code == 400 and "Quantities are whole numbers" in bad.get_data(
        as_text=True)


def test_the_list_filters_by_status_and_customer_and_pages_by_keyset(app, shop, admin,
                                                                     monkeypatch):
    first = _place(app, shop)
    with app.app_context():
        other = Customer(merchant_id=shop.merchant_id, first_name="Olga", last_name="Other",
                         custom_fields={})
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    second = _place(app, shop, customer_id=other_id)
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        orders.cancel(merchant, db.session.get(Order, second), date.today(),
                      at_period_end=False)
        db.session.commit()
    everything = admin.client.get("/admin/orders").get_data(as_text=True)
    assert "ORD-00001" in everything and "ORD-00002" in everything
    active = admin.client.get("/admin/orders?status=active").get_data(as_text=True)
    assert "ORD-00001" in active and "ORD-00002" not in active
    olga = admin.client.get(f"/admin/orders?customer={other_id}").get_data(as_text=True)
    assert "Orders of Olga Other" in olga and "ORD-00001" not in olga and "ORD-00002" in olga
    monkeypatch.setattr("widget_server.admin.orders.PAGE", 1)
    page1 = admin.client.get("/admin/orders").get_data(as_text=True)
    assert "ORD-00002" in page1 and "ORD-00001" not in page1 and f"before={second}" in page1
    page2 = admin.client.get(f"/admin/orders?before={second}").get_data(as_text=True)
    assert "ORD-00001" in page2 and "ORD-00002" not in page2
    assert first < second
    # nonsense filters are ignored or refused, never a 500
    assert admin.client.get("/admin/orders?status=x&before=abc").status_code == 200
    assert admin.client.get("/admin/orders?customer=999999").status_code == 404


def _bulk_orders(app, shop, count: int) -> None:
    """Orders written directly (the list reads them, it does not care how they were made)."""
    with app.app_context():
        customers = [Customer(merchant_id=shop.merchant_id, first_name=f"C{n}", last_name="X",
                              custom_fields={}) for n in range(3)]
        db.session.add_all(customers)
        db.session.flush()
        start = db.session.scalar(select(func.count(Order.id)))
        db.session.add_all([Order(merchant_id=shop.merchant_id,
                                  customer_id=customers[n % 3].id, number=f"B-{start + n}",
                                  currency="USD", status=ACTIVE, total_minor=100,
                                  interval="month", start_date=date.today(),
                                  next_billing_date=date.today(),
                                  sales_agent_id=shop.agent_id)
                            for n in range(count)])
        db.session.commit()


def test_the_orders_list_costs_the_same_statements_for_3_and_30_orders(
        app, shop, admin, count_queries):
    counts = []
    for total in (3, 30):
        _bulk_orders(app, shop, total - (3 if counts else 0))
        with count_queries() as counter:
            page = admin.client.get("/admin/orders")
        assert page.status_code == 200
        assert page.get_data(as_text=True).count('href="/admin/orders/') == total
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_cancel_says_what_happens_and_cancels_at_period_end_or_at_once(app, shop, admin):
    later, now = _place(app, shop), _place(app, shop)
    confirm = admin.client.get(f"/admin/orders/{later}/cancel").get_data(as_text=True)
    with app.app_context():
        period_end = db.session.get(Order, later).next_billing_date
    assert f"It runs until {_us(period_end)} and then ends" in confirm
    assert "nothing more is billed. The current period is not refunded" in confirm
    done = admin.submit(f"/admin/orders/{later}/cancel", {"when": "period_end"}, follow=True)
    assert "cancelled at the end of its period" in done.get_data(as_text=True)
    admin.submit(f"/admin/orders/{now}/cancel", {"when": "now"})
    with app.app_context():
        at_end, at_once = db.session.get(Order, later), db.session.get(Order, now)
        assert (at_end.status, at_end.end_date) == (ACTIVE, period_end)
        assert at_end.cancelled_at is not None
        assert (at_once.status, at_once.next_billing_date) == (CANCELLED, None)
    again = admin.client.get(f"/admin/orders/{now}/cancel", follow_redirects=True)
    assert "already cancelled or has ended" in again.get_data(as_text=True)
    bad = admin.submit(f"/admin/orders/{later}/cancel", {"when": "tomorrow"},
                       form_url=f"/admin/orders/{now}")
    assert bad.status_code in (302, 400)  # cancelled already: back to the order, unchanged


def test_agents_are_created_edited_deactivated_and_reactivated(app, shop, admin):
    refused = admin.submit("/admin/agents/new", {"name": " ", "email": "not-an-email"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "This field is required." in text
    refused = admin.submit("/admin/agents/new", {"name": "Ann", "email": "not-an-email"})
    assert refused.status_code == 400 and "is not a valid email address" in refused.get_data(
        as_text=True)
    assert admin.submit("/admin/agents/new", {"name": "Ann Agent",
                                              "email": "ann@ACME.test"}).status_code == 302
    with app.app_context():
        ann = db.session.scalar(select(SalesAgent).where(SalesAgent.name == "Ann Agent"))
        assert ann.email == "ann@acme.test" and ann.active
        ann_id = ann.id
    assert admin.submit(f"/admin/agents/{ann_id}", {"name": "Ann Able",
                                                    "email": ""}).status_code == 302
    listing = admin.client.get("/admin/agents").get_data(as_text=True)
    assert "Ann Able" in listing and "Sam Seller" in listing
    gone = admin.submit(f"/admin/agents/{ann_id}/deactivate", {}, form_url="/admin/agents",
                        follow=True)
    assert "“Ann Able” is deactivated" in gone.get_data(as_text=True)
    new_order = admin.client.get(f"/admin/customers/{shop.customer_id}/orders/new")
    assert "Ann Able" not in new_order.get_data(as_text=True)
    crafted = admin.submit(f"/admin/customers/{shop.customer_id}/orders/new",
                           {"product_0": str(shop.plan_id), "quantity_0": "1",
                            "sales_agent": str(ann_id)})
    assert crafted.status_code == 400
    assert "Choose one of the listed sales agents." in crafted.get_data(as_text=True)
    admin.submit(f"/admin/agents/{ann_id}/reactivate", {}, form_url="/admin/agents")
    with app.app_context():
        ann = db.session.get(SalesAgent, ann_id)
        assert (ann.name, ann.email, ann.active) == ("Ann Able", "", True)


def test_run_billing_now_enqueues_the_merchants_run(app, shop, admin):
    answer = admin.submit("/admin/orders/billing-run", {}, form_url="/admin/orders",
                          follow=True)
    assert "The billing run is queued" in answer.get_data(as_text=True)
    with app.app_context():
        [job] = db.session.scalars(select(Job).where(Job.kind == billing_run.JOB))
        assert (job.merchant_id, job.payload) == (shop.merchant_id,
                                                  {"merchant_id": shop.merchant_id})


def test_posts_without_the_csrf_token_are_refused(app, shop, admin):
    order_id = _place(app, shop)
    for url, data in [("/admin/orders/billing-run", {}),
                      (f"/admin/orders/{order_id}/cancel", {"when": "now"}),
                      (f"/admin/agents/{shop.agent_id}/deactivate", {}),
                      ("/admin/agents/new", {"name": "Eve"}),
                      (f"/admin/customers/{shop.customer_id}/orders/new",
                       {"product_0": str(shop.plan_id), "quantity_0": "1"})]:
        assert admin.client.post(url, data=data).status_code == 400, url
    with app.app_context():
        assert db.session.get(Order, order_id).status == ACTIVE
        assert db.session.get(SalesAgent, shop.agent_id).active
        assert db.session.scalar(select(func.count(Job.id)).where(
            Job.kind == billing_run.JOB)) == 0
        assert db.session.scalar(select(func.count(Order.id))) == 1


def test_another_merchants_orders_and_agents_are_not_found(app, shop, portal, admin):
    order_id = _place(app, shop)
    other = portal("other", username="olga")
    with app.app_context():
        agent = SalesAgent(merchant_id=other.merchant_id, name="Their Agent")
        db.session.add(agent)
        db.session.commit()
        their_agent = agent.id
    with app.app_context():
        merchant = db.session.get(Merchant, other.merchant_id)
        plan = Product(merchant_id=merchant.id, sku="P", name="Their plan",
                       unit_price_minor=100, currency="USD", interval="month")
        db.session.add(plan)
        db.session.flush()
        their_order = orders.place(merchant, db.session.get(Customer, other.customer_id),
                                   [orders.Item(plan.id, 1)], merchant.today()).id
        db.session.commit()
    csrf = csrf_from(admin.client.get("/admin/orders").get_data(as_text=True))
    for url in (f"/admin/orders/{their_order}", f"/admin/orders/{their_order}/cancel",
                f"/admin/agents/{their_agent}",
                f"/admin/customers/{other.customer_id}/orders/new"):
        assert admin.client.get(url).status_code == 404, url
    for url in (f"/admin/orders/{their_order}/cancel", f"/admin/agents/{their_agent}/deactivate",
                f"/admin/agents/{their_agent}"):
        assert admin.client.post(url, data={"csrf_token": csrf, "when": "now",
                                            "name": "Taken"}).status_code == 404, url
    assert admin.client.get(f"/admin/orders?customer={other.customer_id}").status_code == 404
    assert "Their plan" not in admin.client.get("/admin/orders").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Order, their_order).status == ACTIVE
        assert db.session.get(SalesAgent, their_agent).active
        assert db.session.get(SalesAgent, their_agent).name == "Their Agent"
    assert admin.client.get(f"/admin/orders/{order_id}").status_code == 200  # A's own


def test_the_customer_page_links_to_their_orders(app, shop, admin):
    page = admin.client.get(f"/admin/customers/{shop.customer_id}").get_data(as_text=True)
    assert f'href="/admin/customers/{shop.customer_id}/orders/new"' in page
    assert f'href="/admin/orders?customer={shop.customer_id}"' in page


def test_the_billing_run_command_bills_due_orders_and_says_how_many(app, shop):
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        order = orders.place(merchant, db.session.get(Customer, shop.customer_id),
                             [orders.Item(shop.plan_id, 1)], date.today() - timedelta(days=40))
        db.session.commit()
        order_id = order.id
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["billing-run", "--merchant", "nope"])
    assert unknown.exit_code != 0 and "no merchant with the slug" in unknown.output
    result = runner.invoke(args=["billing-run", "--merchant", "acme"])
    assert result.exit_code == 0, result.output
    assert "1 invoice(s) made for 1 due order(s)" in result.output
    assert "0 invoice(s)" in runner.invoke(args=["billing-run"]).output
    with app.app_context():
        assert db.session.scalar(select(func.count(Invoice.id)).where(
            Invoice.order_id == order_id)) == 2
