"""Edges found in review: old links after sign-up, resets after temporary passwords, crafted
ids, tokens inside attributes, lease fencing and dead workers in the job queue."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from, widget_login
from widget_server.core.database import utcnow
from widget_server.core.extensions import db
from widget_server.core.tokens import substitute
from widget_server.customers import credentials, enrolment, portal_access
from widget_server.customers.models import Customer
from widget_server.jobs import queue
from widget_server.jobs.models import Job
from widget_server.tenancy.models import Merchant


def test_an_old_create_link_cannot_take_over_after_sign_up(app, portal):
    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        customer = db.session.get(Customer, p.customer_id)
        customer.password_hash = None
        customer.username = None
        first = credentials.issue_token(customer, "create")
        second = credentials.issue_token(customer, "invite")
        db.session.commit()
        found = credentials.look_up(merchant.id, first, ("create",))
        credentials.set_credentials(merchant, found.token, found.customer, username="jane",
                                    password="jane-pass-123")
        db.session.commit()
        assert credentials.look_up(merchant.id, second, ("invite",)).state == "used"
    client = app.test_client()
    page = client.get(f"{p.standalone}/credentials/{second}", follow_redirects=True)
    assert "You have already signed up." in page.get_data(as_text=True)


def test_a_reset_clears_a_used_temporary_password(app, portal):
    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        customer = db.session.get(Customer, p.customer_id)
        assert portal_access.send_temporary_password(merchant, customer)
        customer.temp_password_state = "used"
        raw = credentials.issue_token(customer, "reset")
        db.session.commit()
        found = credentials.look_up(merchant.id, raw, ("reset",))
        credentials.reset_password(merchant, found.token, found.customer, "after-reset-123")
        db.session.commit()
    assert widget_login(app.test_client(), p.base, p.username,
                        "after-reset-123").status_code == 302


def test_no_credential_email_while_the_portal_is_off(app, portal):
    p = portal(config={"portal": {"enable_customer_portal": False}})
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        customer = db.session.get(Customer, p.customer_id)
        assert not enrolment.send_reset(merchant, customer)
        assert not portal_access.send_temporary_password(merchant, customer)


@pytest.mark.parametrize("url", ["/admin/emails?before=99999999999999999999999",
                                 "/admin/invitations?id=%C2%B2",
                                 "/admin/invitations?id=99999999999999999999999"])
def test_crafted_numbers_never_500(owner_client, url):
    assert owner_client.client.get(url).status_code in (200, 302)


def test_crafted_invoice_line_numbers_are_refused(app, portal, browser_like):
    p = portal()
    browser_like.login("owner@acme.test", "owner-pass-123")
    response = browser_like.submit(f"/admin/customers/{p.customer_id}/invoices/new",
                                   {"product_0": "²", "quantity_0": "²"})
    assert response.status_code == 400


def test_link_token_inside_an_attribute_stays_a_url():
    html = substitute('<a href="{{ portal_link }}">Open</a> or {{ portal_link }}',
                      {"portal_link": "https://p.example/x?a=1&b=2"}, escape=True)
    assert html.startswith('<a href="https://p.example/x?a=1&amp;b=2">Open</a> or <a href=')


RUNS = []


@queue.handler("test.slow")
def _slow(job):
    RUNS.append(job.id)


def test_a_worker_whose_lease_expired_does_not_finish_anothers_job(app, ctx):
    RUNS.clear()
    queue.enqueue("test.slow", {})
    db.session.commit()
    now = utcnow()
    first = queue.claim(now)
    my_lease = first.lease_until
    # the lease runs out; a second worker takes the job over and finishes it
    later = now + queue.LEASE + timedelta(seconds=1)
    taken = queue.run_one(later)
    assert taken.status == "done" and [taken.id] == RUNS
    # the first worker comes back: its fenced finish must not touch the job
    done = db.session.execute(Job.__table__.update().where(
        Job.id == first.id, Job.lease_until == my_lease).values(status="queued"))
    assert done.rowcount == 0
    db.session.rollback()


def test_a_job_that_kills_every_worker_fails_at_max_attempts(app, ctx):
    queue.enqueue("test.slow", {}, max_attempts=2)
    db.session.commit()
    now = utcnow()
    for n in range(2):
        assert queue.claim(now + n * (queue.LEASE + timedelta(seconds=1))) is not None
    assert queue.claim(now + 3 * queue.LEASE) is None
    job = db.session.scalar(select(Job))
    assert job.status == "failed" and "stopped during every attempt" in job.last_error


def test_link_requests_are_throttled_per_address_typed(app, portal):
    from widget_server.core.extensions import limiter

    p = portal()
    limiter.enabled = True
    limiter.reset()
    try:
        codes = []
        for _ in range(4):
            client = app.test_client()
            page = client.get(f"{p.standalone}/forgot").get_data(as_text=True)
            codes.append(client.post(f"{p.standalone}/forgot", data={
                "csrf_token": csrf_from(page), "login": p.username}).status_code)
        assert codes == [200, 200, 200, 429]
    finally:
        limiter.reset()
        limiter.enabled = False


def test_pay_links_open_inside_the_merchants_page():
    from widget_server.web.embed import LOADER

    pattern = re.search(r"/\^(.+?)\$/\.test\(start\)", LOADER.read_text())[1]
    assert "pay" in pattern and "credentials" in pattern
