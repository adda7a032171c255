"""Paying inside the cross-site iframe in Chromium; the Success URL takes the top window (E-6)."""
import re
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.test_browser_embed import host_html
from widget_server.billing.invoices import build_invoice
from widget_server.billing.models import Invoice
from widget_server.catalogue.models import Product
from widget_server.core.extensions import db
from widget_server.core.money import format_money
from widget_server.customers.models import Customer
from widget_server.profiles.models import SelfServiceProfile
from widget_server.tenancy.models import Merchant

pytestmark = pytest.mark.browser
PAY_BUTTON = re.compile(r"^Pay \S")  # "Pay $42.00": the button says the total (#20)


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
        second = build_invoice(merchant, db.session.get(Customer, p.customer_id),
                               [(product, 2)], number=uuid.uuid4().hex[:8],
                               issue_date=date.today(),
                               due_date=date.today() + timedelta(days=9))
        db.session.commit()
        p.invoice_id, p.invoice_number = invoice.id, invoice.number
        p.second_id = second.id
    p.host, p.thanks = host, thanks
    return p


def _set_payment(app, shop, **values):
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, shop.profile_id)
        profile.settings = {"payment": values}
        db.session.commit()


def _open_pay_page(page, shop):
    """Sign in inside the cross-site iframe and open the Pay page by its link."""
    page.goto(shop.host)
    frame = page.frame_locator("#box-0 iframe")
    frame.get_by_label("Username or email").fill(shop.username)
    frame.get_by_label("Password").fill(shop.password)
    frame.get_by_role("button", name="Sign in").click()
    frame.get_by_role("link", name="Pay", exact=True).click()
    return frame


def _pay_first_invoice(page, shop, card_number, *, save=False):
    """Sign in inside the iframe, tick the first invoice and pay it by card."""
    frame = _open_pay_page(page, shop)
    frame.get_by_label(shop.invoice_number, exact=False).check()
    frame.get_by_label("New credit card").check()
    frame.get_by_label("Card number").fill(card_number)
    frame.get_by_label("Expiry (MM/YY)").fill("12/39")
    frame.get_by_label("Security code").fill("123")
    if save:
        frame.get_by_label("Save this payment method").check()
    frame.get_by_role("button", name=PAY_BUTTON).click()
    return frame


def test_pay_by_card_inside_the_iframe_then_the_success_url(app, page, shop):
    _pay_first_invoice(page, shop, "4242 4242 4242 4242")
    page.wait_for_url(f"{shop.thanks}?payment=succeeded")
    expect(page.get_by_role("heading", name="Thanks!")).to_be_visible()
    with app.app_context():
        assert db.session.get(Invoice, shop.invoice_id).balance_minor == 0


def _balances(app, shop):
    with app.app_context():
        return [db.session.get(Invoice, i).balance_minor for i in (shop.invoice_id,
                                                                     shop.second_id)]


def test_a_declined_card_inside_the_iframe(app, page, shop):
    _set_payment(app, shop)
    frame = _pay_first_invoice(page, shop, "4000 0000 0000 0002")
    expect(frame.get_by_role("heading", name="The payment did not go through")).to_be_visible()
    assert _balances(app, shop) == [4200, 8400]


def test_pay_all_outstanding_by_ach_inside_the_iframe(app, page, shop):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _set_payment(app, shop, invoice_choice="all")
    frame = _open_pay_page(page, shop)
    expect(frame.get_by_role("group", name="All outstanding invoices are paid together")) \
        .to_be_visible()
    frame.get_by_label("New bank account (ACH)").check()
    frame.get_by_label("Routing number").fill("110000000")
    frame.get_by_label("Account number").fill("000123456789")
    frame.get_by_role("button", name=PAY_BUTTON).click()
    expect(frame.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(frame.get_by_text("Bank account •••• 6789")).to_be_visible()
    assert _balances(app, shop) == [0, 0]
    assert errors == []  # no script error on the way (the iframe's included)


def test_any_amount_beyond_the_invoice_becomes_credit(app, page, shop):
    _set_payment(app, shop, payment_amount="any")
    frame = _open_pay_page(page, shop)
    frame.get_by_label(shop.invoice_number, exact=False).check()
    frame.get_by_label("Amount").fill("50.00")
    frame.get_by_label("New credit card").check()
    frame.get_by_label("Card number").fill("4242 4242 4242 4242")
    frame.get_by_label("Expiry (MM/YY)").fill("12/39")
    frame.get_by_label("Security code").fill("123")
    frame.get_by_role("button", name=PAY_BUTTON).click()
    expect(frame.get_by_role("heading", name="Thank you")).to_be_visible()
    assert _balances(app, shop) == [0, 8400]
    with app.app_context():
        assert db.session.get(Customer, shop.customer_id).credit_minor == 800
    frame.get_by_role("link", name="Back to your account").click()
    expect(frame.get_by_text("Account credit")).to_be_visible()


def test_a_saved_card_is_reused_by_keyboard(app, page, shop):
    _set_payment(app, shop)
    frame = _pay_first_invoice(page, shop, "4242 4242 4242 4242", save=True)
    expect(frame.get_by_role("heading", name="Thank you")).to_be_visible()
    frame.get_by_role("link", name="Pay", exact=True).click()
    saved = frame.get_by_label("Visa •••• 4242 (expires 12/39)")
    expect(saved).to_be_checked()  # the default method comes first and is chosen
    frame.get_by_role("checkbox").first.focus()
    page.keyboard.press("Space")  # tick the remaining invoice by keyboard
    frame.get_by_role("button", name=PAY_BUTTON).focus()
    page.keyboard.press("Enter")
    expect(frame.get_by_role("heading", name="Thank you")).to_be_visible()
    assert _balances(app, shop) == [0, 0]
    frame.get_by_role("link", name="Payment methods").click()
    expect(frame.get_by_text("Visa •••• 4242 · expires 12/39")).to_be_visible()


def test_after_a_refused_card_the_keyboard_starts_at_the_field_to_fix(app, page, shop):
    _set_payment(app, shop)
    frame = _open_pay_page(page, shop)
    frame.get_by_label(shop.invoice_number, exact=False).check()
    frame.get_by_label("New credit card").check()
    frame.get_by_label("Card number").fill("4242 4242 4242 4242")
    frame.get_by_label("Expiry (MM/YY)").fill("01/20")
    frame.get_by_label("Security code").fill("123")
    frame.get_by_role("button", name=PAY_BUTTON).click()
    expect(frame.get_by_text("The card has expired")).to_be_visible()
    expect(frame.get_by_label("Expiry (MM/YY)")).to_be_focused()


def test_ticked_invoices_show_the_total_on_the_button_then_the_receipt(app, page, shop):
    """#20 (a) 1, W-12: the button says the total as invoices are ticked, written as the server
    writes money in the customer's language with the merchant's territory (B-5: English
    enabled beside German, an en-US browser, en_DE); the receipt opens from the history."""
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _set_payment(app, shop)
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        merchant.locale = "de_DE"
        merchant.config = {**merchant.config, "portal": {"languages": ["de", "en"]}}
        db.session.commit()
        both, first = (format_money(12600, "USD", "en_DE"), format_money(4200, "USD", "en_DE"))
    frame = _open_pay_page(page, shop)
    expect(frame.get_by_role("button", name=PAY_BUTTON)).to_be_hidden()  # nothing ticked yet
    frame.get_by_label(shop.invoice_number, exact=False).check()
    expect(frame.get_by_role("button", name=f"Pay {first}", exact=True)).to_be_visible()
    frame.locator(f"#invoice-{shop.second_id}").check()
    pay = frame.get_by_role("button", name=f"Pay {both}", exact=True)
    expect(pay).to_be_visible()
    expect(frame.locator("#pay-total")).to_contain_text(both)
    frame.get_by_label("New credit card").check()
    frame.get_by_label("Card number").fill("4242 4242 4242 4242")
    frame.get_by_label("Expiry (MM/YY)").fill("12/39")
    frame.get_by_label("Security code").fill("123")
    pay.click()
    expect(frame.get_by_role("heading", name="Thank you")).to_be_visible()
    assert _balances(app, shop) == [0, 0]
    frame.get_by_role("link", name="Payments", exact=True).click()
    frame.get_by_role("link", name="Receipt PAY-00001").click()
    expect(frame.get_by_role("heading", name="Receipt PAY-00001")).to_be_visible()
    expect(frame.get_by_text(f"Invoice {shop.invoice_number}")).to_be_visible()
    assert errors == []
