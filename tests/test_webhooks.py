"""Signed webhooks (issue #25 item 5, A-2, Standard Webhooks 1.0): a delivery the receiving side
verifies with the `standardwebhooks` package's own verifier, retries then the endpoint disabled
and its owner emailed, server-side request forgery refused at save and at delivery, a delivery
only for a change that commits, and the admin pages (CSRF, the secret shown once, audited)."""
import json
import re
import socket
from datetime import UTC, datetime, timedelta

import pytest
import responses
from sqlalchemy import select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from widget_server.core import events
from widget_server.core.extensions import db
from widget_server.customers import services as customer_services
from widget_server.jobs import queue
from widget_server.jobs.models import Job
from widget_server.tenancy.audit import AuditEntry
from widget_server.tenancy.models import Merchant
from widget_server.webhooks import services as webhooks
from widget_server.webhooks.models import WebhookDelivery, WebhookEndpoint

from .conftest import csrf_from

HOOK = "https://hooks.shop.example/wh"
PUBLIC_IP, PRIVATE_IP = "93.184.215.14", "10.0.0.5"


@pytest.fixture
def dns(monkeypatch):
    """Name resolution as the test says: host → address (anything else: public)."""
    table = {}
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        address = table.get(host, PUBLIC_IP)
        if host in ("127.0.0.1", "::1", "localhost"):
            return real(host, port, *args, **kwargs)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port or 443))]

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", fake)
    return table


@pytest.fixture
def acme(app, make_merchant, dns):
    merchant_id, _ = make_merchant("acme")
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        endpoint = webhooks.create_endpoint(merchant, HOOK, "Shop backend",
                                            ["customer.created", "order.changed"])
        db.session.commit()
        return merchant_id, endpoint.id, endpoint.secret


def _new_customer(app, merchant_id, first="Jane"):
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        customer = customer_services.save_customer(
            merchant, None, details={"first_name": first, "last_name": "Doe"},
            emails=[f"{first.lower()}@example.test"], custom_values={})
        db.session.commit()
        return customer.id


def _run_due(app, now=None, kind="webhook"):
    """Run due jobs until one of `kind` ran (other kinds, e.g. emails, run on the way)."""
    with app.app_context():
        while (job := queue.run_one(now)) is not None:
            if job.kind == kind:
                return job.kind, job.status
        return None


def _error(app):
    with app.app_context():
        return [j.last_error for j in db.session.scalars(select(Job))]


def _delivery(app, endpoint_id):
    with app.app_context():
        row = db.session.scalar(select(WebhookDelivery).where(
            WebhookDelivery.endpoint_id == endpoint_id).order_by(WebhookDelivery.id.desc()))
        db.session.expunge(row)
        return row


@responses.activate
def test_a_delivery_is_signed_and_the_receiver_verifies_it(app, acme):
    merchant_id, endpoint_id, secret = acme
    assert secret.startswith("whsec_")
    responses.add(responses.POST, HOOK, body="thanks", status=200)
    customer_id = _new_customer(app, merchant_id)
    assert _run_due(app) == ("webhook", "done"), _error(app)
    [call] = responses.calls
    body, headers = call.request.body.decode(), dict(call.request.headers)
    # the receiving side, with the package's own verifier
    event = Webhook(secret).verify(body, headers)
    assert event["type"] == "customer.created"
    assert event["data"]["customer_id"] == customer_id
    assert event["data"]["customer"]["id"] == customer_id  # the API's customer schema
    assert event["data"]["customer"]["first_name"] == "Jane"
    assert headers["webhook-id"].startswith("msg_")
    with pytest.raises(WebhookVerificationError):  # a tampered body
        Webhook(secret).verify(body.replace("Jane", "Evil"), headers)
    old = datetime.now(UTC) - timedelta(minutes=10)  # an old (replayed) timestamp
    stale = {**headers, "webhook-timestamp": str(int(old.timestamp())),
             "webhook-signature": Webhook(secret).sign(headers["webhook-id"], old, body)}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, stale)
    with pytest.raises(WebhookVerificationError):  # another endpoint's secret
        Webhook(webhooks.new_secret()).verify(body, headers)
    delivery = _delivery(app, endpoint_id)
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("succeeded", 200, 1)
    assert delivery.response_excerpt == "thanks" and delivery.latency_ms is not None


@responses.activate
def test_a_redirect_is_not_followed_and_counts_as_a_failure(app, acme):
    merchant_id, endpoint_id, _ = acme
    responses.add(responses.POST, HOOK, status=302, headers={"Location": "http://10.0.0.5/"})
    _new_customer(app, merchant_id)
    assert _run_due(app) == ("webhook", "queued")  # retried later
    assert len(responses.calls) == 1
    delivery = _delivery(app, endpoint_id)
    assert (delivery.status, delivery.response_code) == ("retrying", 302)


@responses.activate
def test_failures_are_retried_then_the_endpoint_is_disabled_and_its_owner_emailed(
        app, acme, smtp, monkeypatch):
    merchant_id, endpoint_id, _ = acme
    monkeypatch.setitem(app.config, "WEBHOOK_DISABLE_AFTER", 3)
    responses.add(responses.POST, HOOK, body="x" * 5000, status=500)
    _new_customer(app, merchant_id)
    now = datetime.now(UTC)
    assert _run_due(app, now) == ("webhook", "queued")
    assert _run_due(app, now) is None  # backing off: not due yet
    with app.app_context():
        job = db.session.scalar(select(Job).where(Job.kind == "webhook"))
        assert job.max_attempts == webhooks.MAX_ATTEMPTS
        waits, total = [], timedelta()
        for attempt in range(1, job.max_attempts):
            total += queue.backoff(attempt)
        assert timedelta(days=2, hours=12) < total < timedelta(days=3, hours=12)
        assert job.run_at - now == queue.backoff(1), waits
    for minutes in (1, 3):
        assert _run_due(app, now + timedelta(minutes=minutes)) == ("webhook", "queued")
    delivery = _delivery(app, endpoint_id)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("retrying", 3, 500)
    assert len(delivery.response_excerpt) == 1024
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        assert not endpoint.enabled and endpoint.consecutive_failures == 3
        assert "3 failed deliveries" in endpoint.disabled_reason
    # the owner's email goes out through the outbox
    with app.app_context():
        while queue.run_one(now + timedelta(minutes=10)) is not None:
            pass
    [message] = [m for to, m in smtp.messages if to == ["owner@acme.test"]]
    assert "Webhook endpoint disabled" in message["Subject"]
    assert HOOK in message.get_body(("plain",)).get_content()
    # a disabled endpoint gets nothing more: its pending delivery fails, no call made
    assert len(responses.calls) == 3
    with app.app_context():
        queue.run_one(now + timedelta(minutes=30))
    assert len(responses.calls) == 3
    assert _delivery(app, endpoint_id).status == "failed"
    _new_customer(app, merchant_id, "Max")
    with app.app_context():
        assert db.session.scalar(select(WebhookDelivery).where(
            WebhookDelivery.event_type == "customer.created",
            WebhookDelivery.status == "pending")) is None


@responses.activate
def test_the_failure_switch_off_email_has_its_switch(app, acme, monkeypatch):
    from widget_server.notifications.types import EMAIL_TYPES

    assert EMAIL_TYPES["webhook_endpoint_disabled"].switch is not None


def test_private_addresses_are_refused_at_save(app, dns, owner_client):
    dns["intranet.shop.example"] = PRIVATE_IP
    dns["metadata.shop.example"] = "169.254.169.254"
    dns["v6.shop.example"] = "fd00::1"
    for url in ("https://intranet.shop.example/hook", "https://metadata.shop.example/",
                "https://v6.shop.example/", "http://127.0.0.1:8080/hook",
                "https://127.0.0.1/hook", "http://hooks.shop.example/plain"):
        answer = owner_client.submit("/admin/webhooks", {"url": url,
                                                         "event_types": ["invoice.issued"]})
        assert answer.status_code == 400, url
        assert "webhooks may not call" in answer.get_data(as_text=True) or \
            "https://" in answer.get_data(as_text=True), url
    with app.app_context():
        assert db.session.scalar(select(WebhookEndpoint).where(
            WebhookEndpoint.url.like("%intranet%"))) is None


def test_loopback_http_is_allowed_in_development(app, make_merchant, monkeypatch):
    merchant_id, _ = make_merchant("acme")
    monkeypatch.setitem(app.config, "PUBLIC_URL", "http://localhost:5000")
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        endpoint = webhooks.create_endpoint(merchant, "http://127.0.0.1:9000/hook", "",
                                            ["order.created"])
        assert endpoint.url == "http://127.0.0.1:9000/hook"
        db.session.rollback()


@responses.activate
def test_an_address_that_turns_private_is_refused_at_delivery(app, acme, dns):
    merchant_id, endpoint_id, _ = acme
    responses.add(responses.POST, HOOK, status=200)
    dns["hooks.shop.example"] = "127.0.0.1"  # DNS rebinding after the save
    _new_customer(app, merchant_id)
    assert _run_due(app) == ("webhook", "failed")
    assert responses.calls == [] or len(responses.calls) == 0
    delivery = _delivery(app, endpoint_id)
    assert delivery.status == "failed" and "may not call" in delivery.error
    assert delivery.response_code is None


def test_a_delivery_exists_only_when_the_change_commits(app, acme):
    merchant_id, _, _ = acme

    def count():
        return (db.session.scalar(select(db.func.count(Job.id)).where(Job.kind == "webhook")),
                db.session.scalar(select(db.func.count(WebhookDelivery.id))))

    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        events.record(merchant, "order.changed", order_id=123, customer_id=1)
        assert count() == (1, 1)  # in the change's transaction...
        db.session.rollback()
        assert count() == (0, 0)  # ...and gone with it
        events.record(merchant, "proposal.declined", proposal_id=1)  # not wanted
        events.record(merchant, "order.changed", order_id=124, customer_id=1)
        db.session.commit()
        assert count() == (1, 1)


def _admin_secret(html: str) -> str:
    found = re.search(r'value="(whsec_[^"]+)"', html)
    return found.group(1) if found else ""


@responses.activate
def test_the_admin_adds_rotates_resends_and_deletes_an_endpoint(app, dns, owner_client):
    client = owner_client.client
    # no CSRF token, no endpoint
    refused = client.post("/admin/webhooks", data={"url": HOOK, "event_types": ["order.created"]})
    assert refused.status_code == 400
    answer = owner_client.submit("/admin/webhooks", {
        "url": HOOK, "description": "Backend", "event_types": ["order.created", "invoice.issued"],
        "once": "form-1"})
    assert answer.status_code == 200
    secret = _admin_secret(answer.get_data(as_text=True))
    assert secret.startswith("whsec_")
    listing = client.get("/admin/webhooks").get_data(as_text=True)
    assert HOOK in listing and secret not in listing  # shown once
    with app.app_context():
        endpoint = db.session.scalar(select(WebhookEndpoint))
        endpoint_id = endpoint.id
        assert endpoint.event_types == ["invoice.issued", "order.created"]
    page = client.get(f"/admin/webhooks/{endpoint_id}").get_data(as_text=True)
    assert secret not in page and secret[:10] in page
    # rotate: the new one shown once, the old one gone
    rotated = client.post(f"/admin/webhooks/{endpoint_id}/rotate",
                          data={"csrf_token": csrf_from(page)})
    new_secret = _admin_secret(rotated.get_data(as_text=True))
    assert new_secret.startswith("whsec_") and new_secret != secret
    # its form beside the new secret is the endpoint as saved (#25 browser pass: all unticked)
    html = rotated.get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*value="invoice.issued"|'
                     r'<input[^>]*value="invoice.issued"[^>]*checked', html)
    assert re.search(r'<input[^>]*checked[^>]*name="enabled"|'
                     r'<input[^>]*name="enabled"[^>]*checked', html)
    assert new_secret not in client.get(f"/admin/webhooks/{endpoint_id}").get_data(as_text=True)
    # change its events
    changed = owner_client.submit(f"/admin/webhooks/{endpoint_id}", {
        "url": HOOK, "description": "Backend v2", "event_types": ["order.changed"],
        "enabled": "y"})
    assert changed.status_code == 302
    # a delivery, logged, and sent again with the same webhook-id
    responses.add(responses.POST, HOOK, status=204)
    with app.app_context():
        events.record(db.session.get(Merchant, owner_client.merchant_id), "order.changed",
                      order_id=9, customer_id=1)
        db.session.commit()
    assert _run_due(app) == ("webhook", "done")
    page = client.get(f"/admin/webhooks/{endpoint_id}").get_data(as_text=True)
    assert "order.changed" in page and "204" in page and "Succeeded" in page
    delivery = _delivery(app, endpoint_id)
    again = client.post(f"/admin/webhooks/{endpoint_id}/deliveries/{delivery.id}/resend",
                        data={"csrf_token": csrf_from(page)})
    assert again.status_code == 302
    assert _run_due(app) == ("webhook", "done")
    first, second = responses.calls
    assert first.request.headers["webhook-id"] == second.request.headers["webhook-id"]
    Webhook(new_secret).verify(second.request.body.decode(), dict(second.request.headers))
    # delete
    page = client.get(f"/admin/webhooks/{endpoint_id}").get_data(as_text=True)
    gone = client.post(f"/admin/webhooks/{endpoint_id}/delete",
                       data={"csrf_token": csrf_from(page)})
    assert gone.status_code == 302
    with app.app_context():
        assert db.session.get(WebhookEndpoint, endpoint_id) is None
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        actions = [e.action for e in entries]
        assert actions == ["webhook_endpoint.created", "webhook_endpoint.secret_rotated",
                           "webhook_endpoint.changed", "webhook_endpoint.deleted"]
        stored = json.dumps([e.detail for e in entries])
        assert secret not in stored and new_secret not in stored and "whsec_" not in stored


def test_staff_without_the_permission_cannot_see_webhooks(app, make_merchant, make_admin,
                                                         browser_like):
    merchant_id, _ = make_merchant("acme")
    make_admin(merchant_id, "staff@acme.test")
    assert browser_like.login("staff@acme.test", "staff-pass-123").status_code == 302
    assert browser_like.client.get("/admin/webhooks").status_code == 403
