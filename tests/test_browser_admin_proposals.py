"""The admin's proposals in Chromium (issue #23 item 1): a proposal written for a customer,
refused with a past valid-until day, saved, sent, then seen accepted with its order; axe finds
no serious or critical WCAG A/AA violation on any of these pages."""
import pytest

from tests.test_browser_accessibility import _serious

pytestmark = pytest.mark.browser


def test_write_send_and_see_the_outcome_pass_axe(app, page, live_server, portal):
    from widget_server.catalogue.models import Product
    from widget_server.commerce import proposals
    from widget_server.commerce.proposal_models import Proposal
    from widget_server.core.extensions import db
    from widget_server.customers.models import Customer
    from widget_server.tenancy.models import Merchant

    p = portal()
    with app.app_context():
        db.session.add(Product(merchant_id=p.merchant_id, sku="PLAN", name="Plan",
                               unit_price_minor=1190, currency="USD", tax_rate_bp=1900,
                               interval="month"))
        db.session.commit()
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill("owner-pass-123")
    page.get_by_role("button", name="Sign in").click()

    page.goto(f"{live_server}/admin/customers/{p.customer_id}")
    page.get_by_role("link", name="New proposal").click()
    page.get_by_role("heading", name="New proposal for Jane Doe").wait_for()
    assert _serious(page) == []
    page.get_by_label("Product, line 1").select_option(label="Plan ($11.90, every month)")
    page.get_by_label("Quantity, line 1").fill("3")
    page.get_by_label("Valid until").fill("2000-01-01")
    page.get_by_label("Note to the customer").fill("Three seats, as discussed.")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("cannot be in the past").wait_for()
    assert _serious(page) == []  # the error state too
    page.get_by_label("Valid until").fill("2099-12-31")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("heading", name="Proposal PRO-00001 draft").wait_for()
    assert _serious(page) == []
    page.get_by_role("button", name="Send to the customer").click()
    page.get_by_text("the customer is emailed a link to it").wait_for()

    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        proposal = db.session.get(Proposal, 1)
        order = proposals.accept(merchant, db.session.get(Customer, p.customer_id), proposal,
                                 name="Jane Doe", client_ip="192.0.2.4", today=merchant.today())
        db.session.commit()
        number = order.number
    page.goto(f"{live_server}/admin/proposals?status=accepted")
    page.get_by_role("link", name="PRO-00001").click()
    page.get_by_role("link", name=f"Order {number}").wait_for()
    assert "192.0.2.4" in page.locator("#proposal-outcome").inner_text()
    assert _serious(page) == []
    page.goto(f"{live_server}/admin/proposals")
    assert _serious(page) == []
