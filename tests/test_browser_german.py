"""The widget in German end to end (issue #20, B-5): a German browser on a German merchant's
site, at a phone's width, inside the cross-site iframe: sign in, the overview in German dates and
amounts, pay two invoices seeing the total first, the receipt from the history, and the
receipt email in German through a real SMTP server."""
import re
import uuid
from datetime import date, timedelta

import pytest
from babel.dates import format_date
from playwright.sync_api import expect

from tests.browser import BROWSER_TIMEOUT_MS
from tests.test_browser_embed import host_html
from widget_server.billing.invoices import build_invoice
from widget_server.catalogue.models import Product
from widget_server.core.extensions import db
from widget_server.core.money import format_money
from widget_server.customers.models import Customer
from widget_server.jobs import queue
from widget_server.profiles.models import SelfServiceProfile
from widget_server.tenancy.models import Merchant

pytestmark = pytest.mark.browser


@pytest.fixture
def german_page(chromium):
    context = chromium.new_context(locale="de-DE", viewport={"width": 360, "height": 740})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def german_shop(app, live_server, portal, host_site):
    p = portal(slug="berg", config={"embedding": {"allowed_origins": [host_site.origin]}})
    host = host_site.page("/konto", host_html(live_server, p.slug, ["standard"]))
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        merchant.locale, merchant.currency = "de_DE", "EUR"
        merchant.timezone = "Europe/Berlin"
        customer = db.session.get(Customer, p.customer_id)
        product = Product(merchant_id=merchant.id, sku="S", name="Wartung",
                          unit_price_minor=8230, currency="EUR")
        db.session.add(product)
        db.session.flush()
        p.numbers, p.due = [], []
        for quantity, days in ((1, 5), (2, 12)):
            invoice = build_invoice(merchant, customer, [(product, quantity)],
                                    number=f"R-{uuid.uuid4().hex[:6]}",
                                    issue_date=date.today(),
                                    due_date=date.today() + timedelta(days=days))
            p.numbers.append(invoice.number)
            p.due.append(invoice.due_date)
        profile = db.session.get(SelfServiceProfile, p.profile_id)
        profile.settings = {"payment": {}}
        db.session.commit()
    p.host = host
    return p


def test_a_german_customer_pays_two_invoices_at_360px_and_gets_a_german_receipt(
        app, german_page, german_shop, smtp):
    page, shop = german_page, german_shop
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(shop.host)
    frame = page.frame_locator("#box-0 iframe")
    frame.get_by_label("Benutzername oder E-Mail").fill(shop.username)
    frame.get_by_label("Passwort").fill(shop.password)
    frame.get_by_role("button", name="Anmelden").click()

    # the overview: German words, German dates, German amounts
    expect(frame.locator("html")).to_have_attribute("lang", "de")
    total = format_money(8230 * 3, "EUR", "de_DE")
    assert total == "246,90\xa0€"
    expect(frame.get_by_text(total).first).to_be_visible()
    expect(frame.get_by_text(format_date(shop.due[0], "medium", locale="de_DE")).first
           ).to_be_visible()

    # pay both, the total on the button before anything is charged
    frame.get_by_role("link", name="Bezahlen", exact=True).click()
    frame.get_by_label(shop.numbers[0], exact=False).check()
    frame.get_by_label(shop.numbers[1], exact=False).check()
    pay = frame.get_by_role("button", name=f"{total} bezahlen", exact=True)
    expect(pay).to_be_visible()
    frame.get_by_label("Neue Kreditkarte").check()
    frame.get_by_label("Kartennummer").fill("4242 4242 4242 4242")
    frame.get_by_label(re.compile("^Gültig bis")).fill("12/39")
    frame.get_by_label("Sicherheitscode").fill("123")
    pay.click()
    expect(frame.get_by_role("heading", name="Vielen Dank")).to_be_visible()

    # the receipt from the history, with its PDF
    frame.get_by_role("link", name="Zahlungen", exact=True).click()
    frame.get_by_role("link", name="Beleg PAY-00001").click()
    expect(frame.get_by_role("heading", name="Beleg PAY-00001")).to_be_visible()
    for number in shop.numbers:
        expect(frame.get_by_text(f"Rechnung {number}")).to_be_visible()
    pdf = frame.get_by_role("link", name=re.compile("PDF"))
    expect(pdf).to_be_visible()
    href = pdf.get_attribute("href")
    response = page.request.get(page.frames[1].url.split("/w/")[0] + href
                                if href.startswith("/") else href)
    assert response.headers["content-type"] == "application/pdf"

    # nothing overflows the phone's width inside the frame
    width = page.frames[1].evaluate("document.documentElement.scrollWidth")
    client = page.frames[1].evaluate("document.documentElement.clientWidth")
    assert width <= client

    with app.app_context():
        queue.run_due()  # the receipt email, through a real SMTP server
    receipts = [m for _to, m in smtp.messages if "Beleg" in m["Subject"]]
    assert receipts, [m["Subject"] for _to, m in smtp.messages]
    body = receipts[0].get_body(("plain",)).get_content()
    assert total in body and "PAY-00001" in body
    assert '<html lang="de">' in receipts[0].get_body(("html",)).get_content()
    assert errors == []
