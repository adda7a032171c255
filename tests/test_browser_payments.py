"""Paying inside the cross-site iframe in Chromium; the Success URL takes the top window (E-6)."""
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.test_browser_embed import host_html
from widget_server.billing.invoices import build_invoice
from widget_server.billing.models import Invoice, Product
from widget_server.customers.models import Customer
from widget_server.extensions import db
from widget_server.profiles.models import SelfServiceProfile
from widget_server.tenancy.models import Merchant

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(app, live_server, portal, page, host_site):
    p = portal(config={"embedding": {"allowed_origins": [host_site.origin]}})
    thanks = host_site.page("/thanks", "<!doctype html><title>Thanks</title><h1>Thanks!</h1>")
    host = host_site.page("/account", host_html(live_server, p.slug, ["standard"]))
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        product = Product(merchant_id=merchant.id, sku="S", name="Service",
                          unit_price_minor=4200, currency="USD")
        db.session.add(product)
        db.session.flush()
        invoice = build_invoice(merchant, db.session.get(Customer, p.customer_id),
                                [(product, 1)], number=uuid.uuid4().hex[:8],
                                issue_date=date.today(),
                                due_date=date.today() + timedelta(days=5))
        profile = db.session.get(SelfServiceProfile, p.profile_id)
        profile.settings = {"payment": {"success_url": thanks}}
        db.session.commit()
        p.invoice_id = invoice.id
    p.host, p.thanks = host, thanks
    return p


def _pay_first_invoice(page, shop, card_number):
    """Sign in inside the iframe, tick the first invoice and pay it by card."""
    page.goto(shop.host)
    frame = page.frame_locator("#box-0 iframe")
    frame.get_by_label("Username or email").fill(shop.username)
    frame.get_by_label("Password").fill(shop.password)
    frame.get_by_role("button", name="Sign in").click()
    frame.get_by_role("link", name="Pay").click()
    frame.get_by_role("checkbox").first.check()
    frame.get_by_label("Card number").fill(card_number)
    frame.get_by_label("Expiry (MM/YY)").fill("12/39")
    frame.get_by_label("Security code").fill("123")
    frame.get_by_role("button", name="Pay now").click()
    return frame


def test_pay_by_card_inside_the_iframe_then_the_success_url(app, page, shop):
    _pay_first_invoice(page, shop, "4242 4242 4242 4242")
    page.wait_for_url(f"{shop.thanks}?payment=succeeded")
    expect(page.get_by_role("heading", name="Thanks!")).to_be_visible()
    with app.app_context():
        assert db.session.get(Invoice, shop.invoice_id).balance_minor == 0


def test_a_declined_card_inside_the_iframe(app, page, shop):
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, shop.profile_id)
        profile.settings = {}
        db.session.commit()
    frame = _pay_first_invoice(page, shop, "4000 0000 0000 0002")
    expect(frame.get_by_role("heading", name="The payment did not go through")).to_be_visible()
    with app.app_context():
        assert db.session.get(Invoice, shop.invoice_id).balance_minor == 4200
