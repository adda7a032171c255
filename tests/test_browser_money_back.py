"""The customer sees money going back (#24 item 3) inside the cross-site iframe in Chromium:
after paying, a partial refund and a credit note made in the admin appear under Payments, and
the credit note's PDF downloads from there."""
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.test_browser_payments import _pay_first_invoice, shop  # noqa: F401
from widget_server.billing import credit_notes, refunds
from widget_server.billing.models import Invoice, Payment
from widget_server.core.extensions import db
from widget_server.tenancy.models import Merchant

pytestmark = pytest.mark.browser


def test_the_customer_sees_a_refund_and_a_credit_note_and_downloads_it(app, page, shop):  # noqa: F811
    _pay_first_invoice(page, shop, "4242 4242 4242 4242")
    page.wait_for_url(f"{shop.thanks}?payment=succeeded")
    with app.app_context():  # what the admin does (tests/test_money_back.py drives its pages)
        merchant = db.session.get(Merchant, shop.merchant_id)
        payment = db.session.query(Payment).filter_by(status="succeeded").one()
        refunds.refund(merchant, payment, 1000, reason="", idempotency_key="r:browser")
        credit_notes.issue(merchant, db.session.get(Invoice, shop.second_id), 400,
                           reason="Delivered late", idempotency_key="cn:browser",
                           today=date.today())
        db.session.commit()
    page.goto(shop.host)
    frame = page.frame_locator("#box-0 iframe")
    frame.get_by_role("link", name="Payments", exact=True).click()
    expect(frame.get_by_role("heading", name="Refunds")).to_be_visible()
    expect(frame.get_by_text("REF-00001")).to_be_visible()
    expect(frame.get_by_text("$10.00 refunded")).to_be_visible()
    expect(frame.get_by_role("heading", name="Credit notes")).to_be_visible()
    expect(frame.get_by_text("Delivered late")).to_be_visible()
    with page.expect_download() as download:
        frame.get_by_role("link", name="Credit note CN-00001 (PDF)").click()
    assert download.value.suggested_filename == "CN-00001.pdf"
