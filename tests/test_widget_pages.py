"""The customer's pages (W-1) and the profile settings they obey (P-3, P-8)."""
import re
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from, widget_login
from widget_server.billing.invoices import build_invoice
from widget_server.billing.models import Payment
from widget_server.catalogue.models import Product
from widget_server.core.extensions import db
from widget_server.customers.models import Customer
from widget_server.profiles.models import SelfServiceProfile
from widget_server.tenancy.models import Merchant


def _add_invoices(app, p, plan):
    """plan: list of (price in cents, days until due, paid cents)."""
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        customer = db.session.get(Customer, p.customer_id)
        product = db.session.scalar(select(Product).where(Product.merchant_id == merchant.id))
        for price, due_in, paid in plan:
            product = Product(merchant_id=merchant.id, sku=uuid.uuid4().hex[:12],
                              name="Widget", unit_price_minor=price, currency=merchant.currency)
            db.session.add(product)
            db.session.flush()
            today = date.today()
            invoice = build_invoice(merchant, customer, [(product, 1)],
                                    number=uuid.uuid4().hex[:12], issue_date=today,
                                    due_date=today + timedelta(days=due_in))
            invoice.balance_minor -= paid
            if invoice.balance_minor == 0:
                invoice.status = "paid"
        db.session.commit()


def _set_tab(app, p, tab, values):
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, p.profile_id)
        profile.settings = {**profile.settings, tab: values}
        db.session.commit()


@pytest.fixture
def signed_in(app, portal):
    def make(**kwargs):
        p = portal(**kwargs)
        client = app.test_client()
        assert widget_login(client, p.base, p.username, p.password).status_code == 302
        return p, client

    return make


def test_overview_shows_balance_status_and_next_due(app, signed_in):
    p, client = signed_in()
    _add_invoices(app, p, [(10000, -5, 2500), (4999, 10, 0), (2000, 20, 0), (777, 3, 777)])
    page = client.get(f"{p.base}/account").get_data(as_text=True)
    assert '<p class="amount" data-testid="balance">$144.99</p>' in page  # 75 + 49.99 + 20
    assert "Overdue" in page and "$75.00 past due" in page
    assert "$49.99" in page  # next due: the one in 10 days, not the overdue one
    assert "3 open invoices" in page


def test_settled_account_says_all_paid(app, signed_in):
    p, client = signed_in()
    page = client.get(f"{p.base}/account").get_data(as_text=True)
    assert "All paid" in page and "Nothing due" in page and "No activity yet." in page


def test_money_and_dates_follow_the_merchant_locale(app, signed_in):
    p, client = signed_in()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        merchant.currency, merchant.locale = "EUR", "de_DE"
        db.session.commit()
    _add_invoices(app, p, [(123456, 10, 0)])
    page = client.get(f"{p.base}/account").get_data(as_text=True)
    assert "1.234,56\xa0€" in page


def test_overview_query_count_is_constant(app, signed_in, count_queries):
    p, client = signed_in()
    _add_invoices(app, p, [(1000, 5, 0)])
    with count_queries() as few:
        assert client.get(f"{p.base}/account").status_code == 200
    _add_invoices(app, p, [(1000 + i, i - 10, 0) for i in range(40)])
    with count_queries() as many:
        assert client.get(f"{p.base}/account").status_code == 200
    assert few.count == many.count
    assert many.count <= 8, many.statements


def test_recent_activity_lists_the_newest_invoices_and_payments_in_one_statement(
        app, signed_in, count_queries):
    """The overview reads its totals and both recent lists in one statement (#26): the five
    newest items, invoices before payments on the same day, each kind newest first, a paid
    payment linking its receipt and a failed one the history."""
    p, client = signed_in()
    _add_invoices(app, p, [(1000 + i, 10, 0) for i in range(3)])
    with app.app_context():
        for n, status in enumerate(["succeeded"] * 5 + ["failed"]):
            db.session.add(Payment(merchant_id=p.merchant_id, customer_id=p.customer_id,
                                   amount_minor=500 + n, currency="USD", status=status,
                                   method_label="Card •••• 4242",
                                   number=n + 1 if status == "succeeded" else None))
        db.session.commit()
    with count_queries() as counter:
        page = client.get(f"{p.base}/account").get_data(as_text=True)
    money = [sql for sql in counter.statements if "FROM invoice" in sql or "FROM payment" in sql]
    assert len(money) == 1, counter.statements
    rows = re.findall(r"<tr><td data-label=.*?</tr>", page)
    assert [re.search(r'data-label="Amount">([^<]+)<', row)[1] for row in rows] == [
        "$10.02", "$10.01", "$10.00", "$5.05", "$5.04"]
    assert "Payment · Card •••• 4242" in rows[3] and "/payments\"" in rows[3]
    assert re.search(r'/payments/\d+"', rows[4]) and "badge-succeeded" in rows[4]
    assert "$144.99" not in page and "3 open invoices" in page
    _set_tab(app, p, "payment", {**_tab(app, p, "payment"), "show_payments": False})
    page = client.get(f"{p.base}/account").get_data(as_text=True)
    assert "Payment ·" not in page and page.count("<tr><td data-label=") == 3


def _tab(app, p, tab):
    with app.app_context():
        return dict(db.session.get(SelfServiceProfile, p.profile_id).settings.get(tab) or {})


def test_navigation_bar_follows_the_profile(app, signed_in):
    p, client = signed_in()
    assert 'aria-label="My account"' in client.get(f"{p.base}/account").get_data(as_text=True)
    _set_tab(app, p, "customer", {"show_navigation_bar": False})
    assert 'aria-label="My account"' not in client.get(f"{p.base}/account").get_data(
        as_text=True)


def test_allow_logout_off_hides_the_button_and_refuses_the_post(app, signed_in):
    p, client = signed_in()
    token = csrf_from(client.get(f"{p.base}/account").get_data(as_text=True))
    _set_tab(app, p, "customer", {"allow_logout": False})
    page = client.get(f"{p.base}/account").get_data(as_text=True)
    assert "Sign out" not in page
    response = client.post(f"{p.base}/logout", data={"csrf_token": token})
    assert response.status_code == 403
    assert client.get(f"{p.base}/account").status_code == 200  # still signed in


def test_logout_signs_out(app, signed_in):
    p, client = signed_in()
    page = client.get(f"{p.base}/account").get_data(as_text=True)
    response = client.post(f"{p.base}/logout", data={"csrf_token": csrf_from(page)},
                           follow_redirects=True)
    assert "You are signed out." in response.get_data(as_text=True)
    assert client.get(f"{p.base}/account").status_code == 302


def test_signed_out_customer_is_sent_to_login(client, portal):
    p = portal()
    response = client.get(f"{p.base}/account")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"{p.base}/login")
    assert client.get(f"{p.base}/").headers["Location"].endswith(f"{p.base}/login")


def test_forgot_password_url_from_the_global_tab(app, client, portal):
    p = portal()
    assert f'href="{p.base}/forgot">Forgot password?' in client.get(
        f"{p.base}/login").get_data(as_text=True)
    _set_tab(app, p, "global", {"forgot_password_url": "https://shop.example.com/reset"})
    page = client.get(f"{p.base}/login").get_data(as_text=True)
    assert 'href="https://shop.example.com/reset" target="_top">Forgot password?' in page
    response = client.get(f"{p.base}/forgot")  # the built-in page sends them there too
    assert response.status_code == 302
    assert response.headers["Location"] == "https://shop.example.com/reset"


def test_each_pages_policy_names_the_nonce_of_its_own_style(app, signed_in):
    """The policy is made once per what it depends on, its nonce put in per response (#26):
    each response allows exactly its own inline style."""
    p, client = signed_in()
    seen = set()
    for page in ("account", "invoices", "account"):
        response = client.get(f"{p.base}/{page}")
        nonce = re.search(r'<style nonce="([^"]+)"', response.get_data(as_text=True))[1]
        policy = response.headers["Content-Security-Policy"]
        assert f"style-src 'self' 'nonce-{nonce}';" in policy and "\x00" not in policy
        assert "frame-ancestors 'self'" in policy and response.headers["Vary"] == "Cookie"
        seen.add(nonce)
    assert len(seen) == 3


def test_the_invoice_lists_links_are_the_routers_own(app, signed_in):
    """The list's links (remembered once built, #26) read as url_for writes them, a value of
    None left out as url_for leaves it."""
    from flask import g, url_for

    from widget_server.widget.rendering import widget_url_for

    p, client = signed_in()
    html = client.get(f"{p.base}/invoices").get_data(as_text=True)
    assert f'href="{p.base}/invoices?show=outstanding"' in html
    html = client.get(f"{p.base}/invoices?show=outstanding").get_data(as_text=True)
    assert f'href="{p.base}/invoices">' in html
    with app.test_request_context(f"{p.base}/invoices"):
        g.merchant_slug, g.profile_slug = p.base.split("/")[2:4]
        for values in ({"show": None}, {"show": "outstanding"}, {"before": 7, "show": None},
                       {"after": 12, "show": "outstanding"}):
            assert widget_url_for(".invoices", **values) == url_for(".invoices", **values)
            assert widget_url_for(".invoices", **values) == url_for(".invoices", **values)
