"""Merging duplicate customers in real Chromium (W-10, issue #23 items 4-5): the list flags the
duplicate, two ticked customers open the compare page (no serious axe violation), and
confirming lands on the survivor with the other's invoices."""
import pytest
from sqlalchemy import func, select

from tests.test_browser_accessibility import _serious
from widget_server.core.extensions import db

pytestmark = pytest.mark.browser


def test_admin_ticks_two_compares_and_merges(app, page, live_server, billed):
    from widget_server.billing.models import Invoice
    from widget_server.customers.models import Customer, CustomerEmail

    with app.app_context():
        twin = Customer(merchant_id=billed.merchant_id, first_name="Jane", last_name="Doe",
                        company="Guest checkout", custom_fields={})
        twin.emails = [CustomerEmail(merchant_id=billed.merchant_id,
                                     address="jane@example.test")]
        db.session.add(twin)
        db.session.commit()
        twin_id = twin.id
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill("owner-pass-123")
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/admin/customers")
    assert page.locator(".duplicate-hint").count() == 2  # each flags the other
    assert _serious(page) == []
    page.get_by_label("Select Jane Doe (Guest checkout)").check()
    page.get_by_label("Select Jane Doe", exact=True).check()
    page.get_by_role("button", name="Compare & merge").click()
    page.get_by_role("heading", name="Compare and merge").wait_for()
    assert _serious(page) == []
    page.get_by_label("Jane Doe", exact=True).check()  # the record with the invoices survives
    page.get_by_role("button", name="Merge these customers").click()
    page.get_by_text("is merged into this customer").wait_for()
    assert page.url.endswith(f"/admin/customers/{billed.customer_id}")
    with app.app_context():
        assert db.session.get(Customer, twin_id).merged_into_id == billed.customer_id
        assert db.session.scalar(select(func.count()).select_from(Invoice).where(
            Invoice.customer_id == billed.customer_id)) == 2
