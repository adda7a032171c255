"""Guest payment in Chromium (W-5): the Invoice Issued email's Pay invoice link opens the
merchant's page, whose loader opens the guest payment page in the cross-site iframe; the
customer pays without signing in and the invoice's own customer is credited."""
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.test_browser_embed import host_html
from widget_server.billing import issuing
from widget_server.billing.invoices import build_invoice
from widget_server.billing.models import Invoice, Payment
from widget_server.catalogue.models import Product
from widget_server.core.extensions import db
from widget_server.customers.models import Customer
from widget_server.notifications.models import EmailMessage
from widget_server.tenancy.models import Merchant

pytestmark = pytest.mark.browser


def test_pay_an_emailed_invoice_as_a_guest_inside_the_iframe(app, live_server, portal, page,
                                                             host_site):
    page_url = host_site.page("/account", "")
    p = portal(config={"embedding": {"allowed_origins": [host_site.origin],
                                     "portal_page_url": page_url},
                       "portal": {"allow_guest_invoice_payment": True,
                                  "skip_login_screen": True}})
    host_site.page("/account", host_html(live_server, p.slug, ["standard"]))
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        product = Product(merchant_id=merchant.id, sku="S", name="Service",
                          unit_price_minor=7300, currency="USD")
        db.session.add(product)
        db.session.flush()
        draft = build_invoice(merchant, db.session.get(Customer, p.customer_id), [(product, 1)],
                              number="G-1", issue_date=None,
                              due_date=date.today() + timedelta(days=14), status="draft")
        db.session.commit()
        issuing.issue(merchant, draft, date.today())
        db.session.commit()
        invoice_id = draft.id
        body = db.session.scalar(select(EmailMessage.text_body).where(
            EmailMessage.email_type == "invoice_issued"))
    link = re.search(r"http://\S+#myaccount=\S+", body).group(0)
    page.goto(link)
    frame = page.frame_locator("#box-0 iframe")
    expect(frame.get_by_role("heading", name="Pay invoice G-1")).to_be_visible()
    frame.get_by_label("Card number").fill("4242 4242 4242 4242")
    frame.get_by_label("Expiry (MM/YY)").fill("12/39")
    frame.get_by_label("Security code").fill("123")
    frame.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(frame.get_by_role("heading", name="Thank you")).to_be_visible()
    with app.app_context():
        assert db.session.get(Invoice, invoice_id).status == "paid"
        payment = db.session.scalar(select(Payment))
        assert (payment.customer_id, payment.amount_minor) == (p.customer_id, 7300)
