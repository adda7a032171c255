"""Domain events (issue #18, N-1, N-2): recorded with the change and rolled back with it,
subscribers in its transaction, emails queued by subscribers, no secret ever stored; the email
switches derived from the email types' declaration."""
import inspect
import json
import re
from datetime import date

import pytest
from sqlalchemy import func, select, text

from tests.payment_support import CARD, hidden_fields
from widget_server.billing import issuing
from widget_server.billing.invoices import build_invoice
from widget_server.billing.models import Invoice, Payment
from widget_server.catalogue.models import Product
from widget_server.core import events
from widget_server.core.events import DomainEvent
from widget_server.core.extensions import db
from widget_server.customers import invitations, portal_access, services
from widget_server.customers.models import Customer
from widget_server.jobs.models import Job
from widget_server.jobs.queue import enqueue
from widget_server.notifications.models import EmailMessage
from widget_server.notifications.types import EMAIL_TYPES, SWITCHABLE
from widget_server.tenancy import configuration
from widget_server.tenancy.configuration import NOTIFICATIONS
from widget_server.tenancy.models import Merchant


def _events(name=None):
    stmt = select(DomainEvent).order_by(DomainEvent.id)
    if name:
        stmt = stmt.where(DomainEvent.name == name)
    return list(db.session.scalars(stmt))


def _emails(email_type):
    return list(db.session.scalars(select(EmailMessage).where(
        EmailMessage.email_type == email_type).order_by(EmailMessage.id)))


def test_a_subscriber_runs_in_the_transaction_of_the_change(app, portal, monkeypatch):
    p = portal()
    seen = []

    def probe(merchant, event, *, note):
        # the event is flushed in this session, not committed; what the probe writes joins it
        seen.append((event.name, dict(event.payload), note,
                     db.session.get(DomainEvent, event.id) is event))
        enqueue("probe", {"event_id": event.id}, merchant_id=merchant.id)
        return "done"

    monkeypatch.setitem(events.SUBSCRIBERS, "customer.created", [probe])
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        assert events.record(merchant, "customer.created", customer_id=p.customer_id,
                             transient={"note": "not stored"}) == ["done"]
        assert seen == [("customer.created", {"customer_id": p.customer_id}, "not stored",
                         True)]
        with db.engine.connect() as other:  # nothing committed by record or its subscriber
            assert other.execute(text("SELECT count(*) FROM domain_event")).scalar() == 0
        db.session.rollback()
        assert _events() == [] and db.session.scalar(select(func.count(Job.id))) == 0

        events.record(merchant, "customer.created", customer_id=p.customer_id,
                      transient={"note": "not stored"})
        db.session.commit()
        [event] = _events()
        assert (event.merchant_id, event.payload) == (p.merchant_id,
                                                      {"customer_id": p.customer_id})
        assert db.session.scalar(select(Job.payload)) == {"event_id": event.id}


def test_an_event_and_its_email_roll_back_with_the_change(app, portal, monkeypatch):
    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        customer = db.session.get(Customer, p.customer_id)
        product = Product(merchant_id=merchant.id, sku="S", name="Service",
                          unit_price_minor=5000, currency="USD")
        db.session.add(product)
        db.session.flush()
        invoice = build_invoice(merchant, customer, [(product, 1)], number="INV-1",
                                issue_date=None, due_date=None, status="draft")
        db.session.commit()
        invoice_id = invoice.id

        def crash(*args, **kwargs):
            raise RuntimeError("the process died after the email was queued")

        real = list(events.SUBSCRIBERS["invoice.issued"])
        with monkeypatch.context() as patch:
            patch.setitem(events.SUBSCRIBERS, "invoice.issued", [*real, crash])
            with pytest.raises(RuntimeError):
                issuing.issue(merchant, invoice, date.today())
        db.session.rollback()
        assert db.session.get(Invoice, invoice_id).status == "draft"
        assert _events() == [] and _emails("invoice_issued") == []

        invoice = db.session.get(Invoice, invoice_id)
        issuing.issue(merchant, invoice, date.today())
        db.session.commit()  # the boundary (a request, a job) commits once
        db.session.remove()
        [event] = _events()
        assert (event.name, event.payload) == ("invoice.issued", {"invoice_id": invoice_id,
                                                                  "customer_id": p.customer_id})
        assert [m.to_address for m in _emails("invoice_issued")] == p.emails


def _pay(p, invoice_id):
    page = p.client.get(f"{p.base}/pay").get_data(as_text=True)
    return p.client.post(f"{p.base}/pay", data={**hidden_fields(page), **CARD,
                                                 "invoice": str(invoice_id)})


def test_payment_succeeded_queues_the_receipt_through_its_subscriber(app, billed,
                                                                      monkeypatch):
    assert _pay(billed, billed.invoice_ids[0]).status_code == 200
    with app.app_context():
        payment = db.session.scalar(select(Payment))
        [event] = _events("payment.succeeded")
        assert event.payload == {"payment_id": payment.id, "customer_id": billed.customer_id,
                                 "invoice_ids": [billed.invoice_ids[0]]}
        receipts = _emails("payment_receipt")
        assert [m.to_address for m in receipts] == billed.emails
        # the number a person can quote, not the gateway's reference (#20, W-12)
        assert "$50.00" in receipts[0].text_body
        assert payment.receipt_number in receipts[0].text_body
        assert payment.reference not in receipts[0].text_body

    monkeypatch.setitem(events.SUBSCRIBERS, "payment.succeeded", [])  # no subscriber...
    assert _pay(billed, billed.invoice_ids[1]).status_code == 200
    with app.app_context():
        assert len(_events("payment.succeeded")) == 2
        assert len(_emails("payment_receipt")) == len(billed.emails)  # ...no receipt


def test_events_never_store_a_secret(app, portal):
    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        customer = db.session.get(Customer, p.customer_id)
        assert portal_access.send_temporary_password(merchant, customer)
        customer = db.session.get(Customer, p.customer_id)
        assert portal_access.send_reset_email(merchant, customer)
        newcomer = services.save_customer(merchant, None, details={
            "first_name": "New", "last_name": "Comer"}, emails=["new@example.test"],
            custom_values={})  # C-5: a create link
        assert invitations.send(merchant, "owner@acme.test", [newcomer], "Welcome",
                                "Hello, sign up: {{ portal_link }}") == 1
        db.session.commit()
        db.session.remove()

        bodies = [m.text_body for m in db.session.scalars(select(EmailMessage))]
        secrets = re.findall(r"temporary password is (\S+)", "\n".join(bodies))
        secrets += re.findall(r"/(?:credentials|reset)/([A-Za-z0-9_-]{20,})", "\n".join(bodies))
        secrets = set(secrets)  # the same message to each of the customer's addresses
        assert len(secrets) == 4  # the temporary password, the reset, create and invite links
        names = [e.name for e in _events()]
        assert names == ["credentials.set", "credentials.temporary_password",
                         "credentials.reset_requested", "customer.created",
                         "credentials.create_requested", "customer.invited"]
        stored = json.dumps([e.payload for e in _events()])
        assert not any(secret in stored for secret in secrets)
        assert _events("credentials.set")[0].payload == {"customer_id": p.customer_id,
                                                          "temporary": True}

        with pytest.raises(TypeError):  # a string could be a secret: refused, not stored
            events.record(merchant, "credentials.set", customer_id=p.customer_id,
                          password="hunter2")
        with pytest.raises(ValueError):
            events.record(merchant, "credentials.sett", customer_id=p.customer_id)


def test_a_changed_password_is_an_event(app, portal):
    from widget_server.customers import credentials

    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        customer = db.session.get(Customer, p.customer_id)
        credentials.change_password(merchant, customer, "another-pass-42", p.password)
        [event] = _events()
        assert (event.name, event.payload) == ("credentials.set",
                                               {"customer_id": p.customer_id,
                                                "temporary": False})


def test_one_notification_switch_per_switchable_email_type_declared_once():
    switchable = [t.key for t in EMAIL_TYPES.values() if t.switch is not None]
    assert [s.key for s in NOTIFICATIONS.settings] == switchable == [t.key for t in SWITCHABLE]
    for setting in NOTIFICATIONS.settings:
        email_type = EMAIL_TYPES[setting.key]
        assert (setting.default, setting.label, setting.help) == (
            email_type.switch.default, email_type.label, email_type.switch.help)
    assert "test" not in switchable  # the admin's test email cannot be switched off
    source = inspect.getsource(configuration)
    assert not any(f'"{key}"' in source for key in switchable)  # not listed a second time

