"""Order Confirmation and Order Cancelled emails (issue #21 item 7, N-2): sent through the real
SMTP path (aiosmtpd) when an order is placed or cancelled, each with its switch."""
from datetime import date

from tests.conftest import csrf_from
from widget_server.commerce import orders as commerce
from widget_server.commerce.periods import in_words as billing_period
from widget_server.core.extensions import db
from widget_server.customers.models import Customer
from widget_server.jobs import queue
from widget_server.notifications.types import EMAIL_TYPES, SWITCHABLE
from widget_server.tenancy.models import Merchant

from .test_widget_orders import place_through_the_page, set_tabs, shop  # noqa: F401


def _deliver(app, smtp):
    with app.app_context():
        queue.run_due()
    found = {}
    for rcpt, message in smtp.messages:  # one message per primary address
        found.setdefault(message["Subject"], message)
        found.setdefault("to " + message["Subject"], []).append(rcpt[0])
    smtp.messages.clear()
    return found


def test_both_types_are_declared_once_with_a_switch(app):
    for key in ("order_confirmation", "order_cancelled"):
        assert EMAIL_TYPES[key] in SWITCHABLE and EMAIL_TYPES[key].switch.default is True
    with app.test_request_context():
        assert billing_period("month", 1) == "every month"
        assert billing_period("week", 2) == "every 2 weeks" and billing_period(None, 1) == "once"


def test_placing_and_cancelling_an_order_email_the_customer(app, shop, smtp):  # noqa: F811
    confirm, _, _ = place_through_the_page(shop, shop.plan_id, 2)
    order_id = int(confirm.location.rsplit("/", 1)[1])
    sent = _deliver(app, smtp)
    confirmation = next(m for s, m in sent.items() if s.startswith("Your order ORD-00001"))
    text = confirmation.get_body(("plain",)).get_content()
    assert "2 × Plan" in text and "$23.80 every month" in text
    assert sorted(sent["to " + confirmation["Subject"]]) == ["ap@example.test",
                                                            "jane@example.test"]
    assert any(s.startswith("Invoice INV-") for s in sent)  # and its first invoice
    page = shop.client.get(f"{shop.base}/orders/{order_id}/cancel").get_data(as_text=True)
    shop.client.post(f"{shop.base}/orders/{order_id}/cancel", data={"csrf_token": csrf_from(page)})
    sent = _deliver(app, smtp)
    cancelled = next(m for s, m in sent.items() if s.endswith("is cancelled"))
    assert "is not billed again" in cancelled.get_body(("plain",)).get_content()


def test_each_switch_stops_its_email(app, shop, smtp):  # noqa: F811
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        merchant.config = {**merchant.config, "notifications": {
            "order_confirmation": False, "order_cancelled": False}}
        customer = db.session.get(Customer, shop.customer_id)
        order = commerce.place(merchant, customer, [commerce.Item(shop.plan_id, 1)],
                               date.today())
        commerce.cancel(merchant, order, date.today(), at_period_end=True)
        db.session.commit()
    sent = _deliver(app, smtp)
    assert not any("Your order" in s for s in sent)
    assert any(s.startswith("Invoice INV-") for s in sent)


def test_every_token_of_the_order_emails_has_a_label_for_the_template_editor():
    from widget_server.notifications.templates import TOKEN_LABELS

    for key in ("order_confirmation", "order_cancelled"):
        assert set(EMAIL_TYPES[key].tokens) <= TOKEN_LABELS.keys()
