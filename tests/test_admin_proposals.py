"""Proposals in the admin (issue #23 item 1, SPEC W-9): written for a customer from catalogue
lines, sent (the Proposal Sent email, through the outbox to a real SMTP server, with a link to
the proposal in the portal; its own switch), and the outcome seen: accepted by whom, when and
from where with its order, or declined with the reason."""
from datetime import timedelta

from sqlalchemy import select

from tests.proposal_support import _products, add_proposal
from widget_server.commerce import proposals
from widget_server.commerce.proposal_models import Proposal
from widget_server.core.extensions import db
from widget_server.customers.models import Customer
from widget_server.jobs import queue
from widget_server.notifications.types import EMAIL_TYPES, SWITCHABLE
from widget_server.tenancy.models import Merchant


def _catalogue(app, merchant_id):
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        plan, setup = _products(merchant)
        db.session.commit()
        return plan.id, setup.id


def _customer(app, merchant_id) -> int:
    from widget_server.customers.models import CustomerEmail

    with app.app_context():
        customer = Customer(merchant_id=merchant_id, first_name="Jane", last_name="Doe",
                            custom_fields={})
        customer.emails = [CustomerEmail(merchant_id=merchant_id, address="jane@example.test")]
        db.session.add(customer)
        db.session.commit()
        return customer.id


def test_the_type_is_declared_once_with_its_switch():
    assert EMAIL_TYPES["proposal_sent"] in SWITCHABLE
    assert "proposal_link" in EMAIL_TYPES["proposal_sent"].tokens


def test_write_send_and_the_customer_is_emailed_a_link(app, owner_client, smtp):
    plan_id, setup_id = _catalogue(app, owner_client.merchant_id)
    customer_id = _customer(app, owner_client.merchant_id)
    new = f"/admin/customers/{customer_id}/proposals/new"
    page = owner_client.client.get(new).get_data(as_text=True)
    assert "Valid until" in page and "Managed plan" in page
    refused = owner_client.submit(new, {"product_0": str(plan_id), "quantity_0": "2",
                                        "valid_until": "2000-01-01", "note": "x"})
    assert refused.status_code == 400 and "cannot be in the past" in refused.get_data(
        as_text=True)
    with app.app_context():
        valid = (db.session.get(Merchant, owner_client.merchant_id).today()
                 + timedelta(days=10)).isoformat()
    saved = owner_client.submit(new, {"product_0": str(plan_id), "quantity_0": "2",
                                      "product_1": str(setup_id), "quantity_1": "1",
                                      "valid_until": valid, "note": "Includes set-up."})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:500]
    detail_url = saved.location
    detail = owner_client.client.get(detail_url).get_data(as_text=True)
    assert "PRO-00001" in detail and "draft" in detail and "Send to the customer" in detail
    sent = owner_client.submit(f"{detail_url}/send", {}, form_url=detail_url)
    assert sent.status_code == 302
    with app.app_context():
        queue.run_due()
        proposal = db.session.scalar(select(Proposal))
        assert proposal.status == "sent" and proposal.total_minor == 9913  # 83.30 net + 19 %
    (rcpts, message), = smtp.messages
    assert rcpts == ["jane@example.test"]
    assert message["Subject"] == "Proposal PRO-00001 from Acme"
    text = message.get_body(("plain",)).get_content()
    assert f"/p/acme/proposals/{proposal.id}" in text and "$99.13" in text
    listing = owner_client.client.get("/admin/proposals?status=sent").get_data(as_text=True)
    assert "PRO-00001" in listing
    assert "PRO-00001" not in owner_client.client.get(
        "/admin/proposals?status=expired").get_data(as_text=True)


def test_its_switch_stops_the_email(app, portal):
    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        merchant.config = {**merchant.config, "notifications": {"proposal_sent": False}}
        db.session.commit()
    add_proposal(app, p)
    from widget_server.notifications.models import EmailMessage

    with app.app_context():
        assert db.session.scalars(select(EmailMessage)).all() == []
        assert db.session.get(Proposal, p.proposal_id).status == "sent"


def test_the_admin_sees_who_accepted_and_the_order_or_the_reason(app, owner_client):
    p = type("P", (), {})()
    p.merchant_id = owner_client.merchant_id
    p.customer_id = _customer(app, owner_client.merchant_id)
    p.profile_id = None
    add_proposal(app, p, switch_on=False)
    accepted = p.proposal_id
    add_proposal(app, p, switch_on=False)
    declined = p.proposal_id
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        customer = db.session.get(Customer, p.customer_id)
        order = proposals.accept(merchant, customer, db.session.get(Proposal, accepted),
                                 name="Jane Doe", client_ip="203.0.113.9",
                                 today=merchant.today())
        proposals.decline(merchant, customer, db.session.get(Proposal, declined),
                          reason="Went with a local firm.", today=merchant.today())
        db.session.commit()
        number, order_id = order.number, order.id
    page = owner_client.client.get(f"/admin/proposals/{accepted}").get_data(as_text=True)
    assert "by “Jane Doe”" in page and "203.0.113.9" in page
    assert f'href="/admin/orders/{order_id}"' in page and number in page
    order_page = owner_client.client.get(f"/admin/orders/{order_id}").get_data(as_text=True)
    assert f'href="/admin/proposals/{accepted}">PRO-00001</a>, accepted ' in order_page  # back
    page = owner_client.client.get(f"/admin/proposals/{declined}").get_data(as_text=True)
    assert "Went with a local firm." in page
    listing = owner_client.client.get("/admin/proposals?status=accepted").get_data(as_text=True)
    assert "PRO-00001" in listing and "PRO-00002" not in listing
