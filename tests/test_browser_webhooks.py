"""The admin's webhook pages in Chromium (issue #25 item 5): an endpoint added by keyboard and
mouse, its signing secret read once, the list and the endpoint's page with its delivery log pass
axe and read at 320 px."""
import pytest
from sqlalchemy import select

from tests.test_browser_accessibility import _serious

pytestmark = pytest.mark.browser

HOOK = "https://93.184.215.14/hook"  # a public address: no DNS needed


def _fits(page):
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 321
    page.set_viewport_size({"width": 1280, "height": 800})


def test_the_admin_adds_an_endpoint_and_reads_its_log(app, page, live_server, make_merchant):
    from widget_server.core.extensions import db
    from widget_server.webhooks.models import WebhookDelivery, WebhookEndpoint

    make_merchant("acme")
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill("owner-pass-123")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Webhooks", exact=True).first.click()
    page.get_by_role("heading", name="Webhooks", exact=True).wait_for()
    assert _serious(page) == []
    page.get_by_label("URL").fill(HOOK)
    page.get_by_label("order.created").check()
    page.get_by_label("invoice.issued").check()
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.get_by_label("Signing secret").input_value()
    assert secret.startswith("whsec_")
    assert _serious(page) == []
    _fits(page)
    with app.app_context():
        endpoint = db.session.scalar(select(WebhookEndpoint))
        db.session.add(WebhookDelivery(merchant_id=endpoint.merchant_id, endpoint_id=endpoint.id,
                                       event_type="invoice.issued", message_id="msg_1",
                                       status="retrying", attempts=2, response_code=500,
                                       latency_ms=41, response_excerpt="Internal error",
                                       error="HTTP 500"))
        db.session.commit()
    page.goto(f"{live_server}/admin/webhooks")
    assert page.get_by_label("Signing secret").count() == 0  # shown once
    page.get_by_role("link", name=HOOK).click()
    page.get_by_role("heading", name="Webhook endpoint").wait_for()
    assert page.get_by_text("Internal error").is_visible()
    assert _serious(page) == []
    _fits(page)
    page.get_by_role("button", name="Send invoice.issued msg_1 again").click()
    page.get_by_text("Delivery queued to be sent again.").wait_for()
    page.get_by_role("button", name="Rotate signing secret").click()
    rotated = page.get_by_label("Signing secret").input_value()
    assert rotated.startswith("whsec_") and rotated != secret
    assert _serious(page) == []
