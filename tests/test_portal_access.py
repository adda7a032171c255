"""Lockout, throttling, temporary passwords, password change and the admin's Portal panel
(C-6, C-7, C-8, C-10)."""
import re

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from, widget_login
from widget_server.core.extensions import db, limiter
from widget_server.customers.models import CredentialToken, Customer
from widget_server.notifications.models import EmailMessage
from widget_server.tenancy.models import Merchant

NEW = "brand-new-pass-9"


def _customer(app, customer_id):
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        db.session.expunge(customer)
        return customer


def _set_threshold(app, p, threshold):
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        merchant.config = {"security": {"lockout_threshold": threshold,
                                        "password_min_length": 10}}
        db.session.commit()


def test_lockout_at_the_threshold_tells_the_customer_and_admin_unlocks(app, portal,
                                                                       browser_like):
    p = portal()
    _set_threshold(app, p, 3)
    client = app.test_client()
    for _ in range(2):
        page = widget_login(client, p.base, p.username, "wrong-password").get_data(as_text=True)
        assert "Username/email or password is incorrect." in page
    page = widget_login(client, p.base, p.username, "wrong-password").get_data(as_text=True)
    assert "Your account is locked after too many unsuccessful sign-ins. Please try again in " \
           "15 minutes, or contact Acme to unlock it." in page  # temporary by default (#19-9)
    right = widget_login(client, p.base, p.username, p.password).get_data(as_text=True)
    assert "locked" in right  # even the right password waits for the admin
    assert _customer(app, p.customer_id).locked_at is not None

    browser_like.login("owner@acme.test", "owner-pass-123")
    panel = browser_like.client.get(f"/admin/customers/{p.customer_id}").get_data(as_text=True)
    assert "Locked" in panel and ">Unlock<" in panel
    browser_like.submit(f"/admin/customers/{p.customer_id}/portal/unlock", {},
                        form_url=f"/admin/customers/{p.customer_id}")
    assert _customer(app, p.customer_id).locked_at is None
    assert widget_login(client, p.base, p.username, p.password).status_code == 302


def test_success_resets_the_failure_count(app, portal):
    p = portal()
    _set_threshold(app, p, 3)
    client = app.test_client()
    widget_login(client, p.base, p.username, "wrong-password")
    widget_login(client, p.base, p.username, "wrong-password")
    assert widget_login(client, p.base, p.username, p.password).status_code == 302
    assert _customer(app, p.customer_id).failed_logins == 0


@pytest.fixture
def throttled(app):
    limiter.enabled = True
    limiter.reset()
    yield
    limiter.reset()
    limiter.enabled = False


def test_login_attempts_are_throttled_per_account(app, portal, throttled):
    p = portal()
    _set_threshold(app, p, 50)
    codes = []
    for i in range(12):
        client = app.test_client()  # as if from ever new browsers
        codes.append(widget_login(client, p.base, p.username, f"guess-{i}").status_code)
    assert codes[:10] == [400] * 10
    assert codes[10:] == [429, 429]
    other = widget_login(app.test_client(), p.base, "someone-else", "guess").status_code
    assert other == 400  # another account is not held back


def test_temporary_password_works_once_and_forces_a_new_one(app, portal, browser_like):
    p = portal()
    signed_in = app.test_client()
    widget_login(signed_in, p.base, p.username, p.password)
    browser_like.login("owner@acme.test", "owner-pass-123")
    response = browser_like.submit(f"/admin/customers/{p.customer_id}/portal/temporary-password",
                                   {}, form_url=f"/admin/customers/{p.customer_id}")
    assert response.status_code == 302
    assert signed_in.get(f"{p.base}/account").status_code == 302  # other sessions ended
    with app.app_context():
        bodies = db.session.scalars(select(EmailMessage.text_body).where(
            EmailMessage.email_type == "temporary_password")).all()
    assert len(bodies) == 2  # every Primary Email address
    temporary = re.search(r"temporary password is (\S+)", bodies[0]).group(1)

    client = app.test_client()
    assert widget_login(client, p.base, p.username, temporary).status_code == 302
    assert client.get(f"{p.base}/account").headers["Location"].endswith(f"{p.base}/password")
    page = client.get(f"{p.base}/password").get_data(as_text=True)
    assert "Choose your own password" in page and 'name="current"' not in page
    response = client.post(f"{p.base}/password", data={
        "csrf_token": csrf_from(page), "password": NEW, "confirm": NEW}, follow_redirects=True)
    assert "Please sign in again with your new password." in response.get_data(as_text=True)
    again = widget_login(app.test_client(), p.base, p.username, temporary)
    assert again.status_code == 400
    assert widget_login(app.test_client(), p.base, p.username, NEW).status_code == 302


def test_temporary_password_is_for_one_sign_in(app, portal, browser_like):
    p = portal()
    browser_like.login("owner@acme.test", "owner-pass-123")
    browser_like.submit(f"/admin/customers/{p.customer_id}/portal/temporary-password", {},
                        form_url=f"/admin/customers/{p.customer_id}")
    with app.app_context():
        body = db.session.scalar(select(EmailMessage.text_body))
    temporary = re.search(r"temporary password is (\S+)", body).group(1)
    assert widget_login(app.test_client(), p.base, p.username, temporary).status_code == 302
    second = widget_login(app.test_client(), p.base, p.username, temporary)
    assert "already used" in second.get_data(as_text=True)


def test_password_change_signs_out_everywhere(app, portal):
    p = portal()
    phone, laptop = app.test_client(), app.test_client()
    widget_login(phone, p.base, p.username, p.password)
    widget_login(laptop, p.base, p.username, p.password)
    page = laptop.get(f"{p.base}/password").get_data(as_text=True)
    wrong = laptop.post(f"{p.base}/password", data={
        "csrf_token": csrf_from(page), "current": "not-it", "password": NEW, "confirm": NEW})
    assert "Your current password is not right." in wrong.get_data(as_text=True)
    response = laptop.post(f"{p.base}/password", data={
        "csrf_token": csrf_from(page), "current": p.password, "password": NEW, "confirm": NEW},
        follow_redirects=True)
    assert "signed out everywhere" in response.get_data(as_text=True)
    assert phone.get(f"{p.base}/account").status_code == 302
    assert laptop.get(f"{p.base}/account").status_code == 302


def test_portal_panel_offers_actions_by_state(app, portal, browser_like):
    p = portal()
    browser_like.login("owner@acme.test", "owner-pass-123")
    url = f"/admin/customers/{p.customer_id}"
    panel = browser_like.client.get(url).get_data(as_text=True)
    assert 'data-portal-state="active"' in panel
    assert "Send Reset Password Email" in panel and "Send Create Credentials Email" not in panel
    refused = browser_like.submit(f"{url}/portal/send-create", {}, form_url=url, follow=True)
    assert "does not fit" in refused.get_data(as_text=True)

    browser_like.submit(f"{url}/portal/delete-username", {}, form_url=url)
    customer = _customer(app, p.customer_id)
    assert customer.username is None and customer.password_hash is None
    panel = browser_like.client.get(url).get_data(as_text=True)
    assert 'data-portal-state="no_username"' in panel
    assert "Send Create Credentials Email" in panel and "Send Reset Password Email" not in panel

    browser_like.submit(f"{url}/portal/update-username", {"username": "Jane.D"}, form_url=url)
    assert _customer(app, p.customer_id).username == "jane.d"
    assert 'data-portal-state="no_password"' in browser_like.client.get(url).get_data(
        as_text=True)
    response = browser_like.submit(f"{url}/portal/send-create", {}, form_url=url, follow=True)
    assert "The Create Credentials email is queued." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(CredentialToken.purpose)) == "create"


def test_portal_panel_refuses_a_taken_username_and_other_merchants(app, portal,
                                                                   browser_like):
    p = portal()
    theirs = portal("globex")
    with app.app_context():
        other = Customer(merchant_id=p.merchant_id, first_name="Tom", last_name="Two",
                         username="tom", custom_fields={})
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    browser_like.login("owner@acme.test", "owner-pass-123")
    url = f"/admin/customers/{other_id}"
    response = browser_like.submit(f"{url}/portal/update-username", {"username": p.username},
                                   form_url=url, follow=True)
    assert "is taken" in response.get_data(as_text=True)
    foreign = browser_like.submit(f"/admin/customers/{theirs.customer_id}/portal/unlock", {},
                                  form_url=url)
    assert foreign.status_code == 404


def test_enrolment_requests_are_throttled(app, portal, throttled):
    p = portal()
    client = app.test_client()
    responses = []
    for i in range(6):
        page = client.get(f"{p.standalone}/enrol").get_data(as_text=True)
        responses.append(client.post(f"{p.standalone}/enrol", data={
            "csrf_token": csrf_from(page), "login": f"someone{i}@example.test"}))
    assert [r.status_code for r in responses] == [200] * 5 + [429]
    assert "Too many attempts" in responses[-1].get_data(as_text=True)


def _open_reset_link(app, p):
    """A Password Reset link (C-4) the customer has not used, as the email carries it."""
    from widget_server.customers import credentials

    with app.app_context():
        raw = credentials.issue_token(db.session.get(Customer, p.customer_id), "reset")
        db.session.commit()
    return f"{p.standalone}/reset/{raw}"


def _temporary_password(app, p, browser_like):
    browser_like.login("owner@acme.test", "owner-pass-123")
    url = f"/admin/customers/{p.customer_id}"
    assert browser_like.submit(f"{url}/portal/temporary-password", {},
                               form_url=url).status_code == 302
    with app.app_context():
        body = db.session.scalar(select(EmailMessage.text_body).where(
            EmailMessage.email_type == "temporary_password"))
    return re.search(r"temporary password is (\S+)", body).group(1)


def _change_password(app, p, current, new):
    client = app.test_client()
    assert widget_login(client, p.base, p.username, current).status_code == 302
    page = client.get(f"{p.base}/password").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "password": new, "confirm": new}
    if 'name="current"' in page:
        data["current"] = current
    response = client.post(f"{p.base}/password", data=data, follow_redirects=True)
    assert "Please sign in again with your new password." in response.get_data(as_text=True)


@pytest.mark.parametrize("way", ["temporary password", "change password", "both"])
def test_a_password_change_of_any_kind_kills_open_reset_links(app, portal, browser_like, way):
    """Issue #18 (C-4): a reset link must not outlive the password it was sent to replace."""
    p = portal()
    link = _open_reset_link(app, p)
    current = p.password
    if way in ("temporary password", "both"):
        current = _temporary_password(app, p, browser_like)
    if way in ("change password", "both"):
        _change_password(app, p, current, NEW)
        current = NEW
    with app.app_context():
        assert db.session.scalars(select(CredentialToken).where(
            CredentialToken.used_at.is_(None))).all() == []
    client = app.test_client()
    opened = client.get(link, follow_redirects=True)
    assert "your password changed since it was sent" in opened.get_data(as_text=True)
    assert 'name="password"' not in client.get(link).get_data(as_text=True)
    if way != "temporary password":  # the temporary one is spent by the change itself
        assert widget_login(app.test_client(), p.base, p.username, current).status_code == 302


def test_set_password_is_the_one_way_and_revokes_every_link(app, portal):
    """Whatever sets a password (a future SSO too) goes through credentials.set_password."""
    from widget_server.customers import credentials

    p = portal()
    with app.app_context():
        customer = db.session.get(Customer, p.customer_id)
        for purpose in ("create", "reset", "invite"):
            credentials.issue_token(customer, purpose)
        db.session.commit()
        credentials.set_password(customer, NEW)
        db.session.commit()
        assert db.session.scalars(select(CredentialToken.used_at)).all().count(None) == 0
        assert customer.temp_password_state is None


def test_change_password_shows_every_problem_next_to_its_field(app, portal):
    """The service owns the password rules (issue #18 #4): a wrong current password and a weak
    new one are both reported, each next to its field, and nothing changes."""
    p = portal()
    client = app.test_client()
    widget_login(client, p.base, p.username, p.password)
    page = client.get(f"{p.base}/password").get_data(as_text=True)
    response = client.post(f"{p.base}/password", data={
        "csrf_token": csrf_from(page), "current": "not-it", "password": "short1",
        "confirm": "short1"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'id="current-error">Your current password is not right\.', html)
    assert re.search(r'id="password-error">The password needs at least 10 characters', html)
    assert client.get(f"{p.base}/account").status_code == 200  # still signed in


def test_attempts_while_locked_are_not_counted(app, portal, browser_like):
    """Issue #18 9b (C-8): "Locked after 7" at a threshold of 5 counted attempts made while
    already locked; the panel must say how many failures locked the account."""
    p = portal()
    _set_threshold(app, p, 3)
    client = app.test_client()
    for _ in range(6):
        widget_login(client, p.base, p.username, "wrong-password")
    widget_login(client, p.base, p.username, p.password)
    customer = _customer(app, p.customer_id)
    assert customer.locked_at is not None and customer.failed_logins == 3
    browser_like.login("owner@acme.test", "owner-pass-123")
    panel = browser_like.client.get(f"/admin/customers/{p.customer_id}").get_data(as_text=True)
    assert "after 3 failed sign-ins" in panel


def test_no_credential_emails_offered_or_sent_while_the_portal_is_off(app, portal,
                                                                       browser_like):
    """Issue #18 9c (C-6): with the portal switched off a Create Credentials link would lead to
    "portal unavailable": the panel does not offer it and a crafted POST is refused."""
    p = portal(config={"portal": {"enable_customer_portal": False}})
    with app.app_context():
        customer = db.session.get(Customer, p.customer_id)
        customer.username = customer.password_hash = None
        db.session.commit()
    browser_like.login("owner@acme.test", "owner-pass-123")
    url = f"/admin/customers/{p.customer_id}"
    panel = browser_like.client.get(url).get_data(as_text=True)
    assert 'data-portal-state="no_username"' in panel
    assert "Send Create Credentials Email" not in panel
    assert "The customer portal is switched off" in panel
    refused = browser_like.submit(f"{url}/portal/send-create", {}, form_url=url, follow=True)
    page = refused.get_data(as_text=True)
    assert "The customer portal is switched off" in page
    assert "The Create Credentials email is queued." not in page
    with app.app_context():
        assert db.session.scalar(select(CredentialToken)) is None
        assert db.session.scalar(select(EmailMessage)) is None


def test_temporary_password_email_links_to_the_merchants_portal_page(app, portal,
                                                                      browser_like):
    """Issue #18 9d: the email pointed at /p/<m>/ instead of the configured portal page."""
    p = portal(config={"embedding": {"portal_page_url": "https://shop.example.com/account"}})
    _temporary_password(app, p, browser_like)
    with app.app_context():
        message = db.session.scalar(select(EmailMessage))
    assert "It works for one sign-in at https://shop.example.com/account#myaccount=/login" \
        in message.text_body
    assert "/p/acme" not in message.text_body + message.html_body
