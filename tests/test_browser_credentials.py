"""Every credential flow once in Chromium, inside the cross-site iframe (C-3, C-4, C-7, C-8,
C-12, I-3). Email links point at the merchant's page (`#myaccount=/…`), whose loader opens the
page in its iframe, as on a real merchant's site."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.test_browser_embed import host_html
from widget_server.core.extensions import db
from widget_server.customers import enrolment, portal_access
from widget_server.customers.models import Customer, CustomerEmail
from widget_server.jobs import queue
from widget_server.notifications.models import EmailMessage
from widget_server.tenancy.models import Merchant

pytestmark = pytest.mark.browser
PASSWORD = "iframe-pass-123"


@pytest.fixture
def site(app, live_server, portal, page, host_site):
    """A merchant whose portal page is a host page on another site (127.0.0.1)."""
    page_url = host_site.page("/account", "")
    p = portal(config={"embedding": {"allowed_origins": [host_site.origin],
                                     "portal_page_url": page_url}})
    host_site.page("/account", host_html(live_server, p.slug, ["standard"]))
    with app.app_context():
        newcomer = Customer(merchant_id=p.merchant_id, first_name="Nora", last_name="Neu",
                            custom_fields={})
        newcomer.emails = [CustomerEmail(merchant_id=p.merchant_id, address="nora@example.test")]
        db.session.add(newcomer)
        db.session.commit()
        p.newcomer_id = newcomer.id
    p.page_url, p.page = page_url, page
    p.frame = page.frame_locator("#box-0 iframe")
    return p


def _last_link(app, email_type):
    with app.app_context():
        queue.run_due()
        body = db.session.scalar(select(EmailMessage.text_body).where(
            EmailMessage.email_type == email_type).order_by(EmailMessage.id.desc()))
    return re.search(r"http://\S+#myaccount=\S+", body).group(0)


def _open_in_new_tab(site, link):
    """Email links open in a new tab of the same browser (its partitioned cookies too)."""
    tab = site.page.context.new_page()
    tab.goto(link)
    return tab.frame_locator("#box-0 iframe")


def _sign_up(frame, username):
    frame.get_by_label("Username", exact=True).fill(username)
    frame.get_by_label("Password", exact=True).fill(PASSWORD)
    frame.get_by_label("Password again").fill(PASSWORD)


def _sign_in(frame, login, password):
    frame.get_by_label("Username or email").fill(login)
    frame.get_by_label("Password").fill(password)
    frame.get_by_role("button", name="Sign in").click()


def test_sign_up_from_an_invitation_inside_the_iframe(app, site):
    from widget_server.customers import invitations

    with app.app_context():
        merchant = db.session.get(Merchant, site.merchant_id)
        invitations.send(merchant, "owner@acme.test",
                         [db.session.get(Customer, site.newcomer_id)],
                         "Join {{ merchant_name }}", "Hello {{ contact_name }}: {{ portal_link }}")
        db.session.commit()
    site.page.goto(_last_link(app, "invitation"))
    site.frame.get_by_role("heading", name="Sign up for your account").wait_for()
    _sign_up(site.frame, "nora")
    site.frame.get_by_role("button", name="Sign up").click()
    site.frame.get_by_role("heading", name="You are signed up").wait_for()
    site.frame.get_by_role("link", name="Sign in").click()
    _sign_in(site.frame, "nora", PASSWORD)
    expect(site.frame.get_by_role("heading", name="Hello, Nora")).to_be_visible()


def test_credential_create_email_inside_the_iframe(app, site):
    with app.app_context():
        merchant = db.session.get(Merchant, site.merchant_id)
        enrolment.send_create(merchant, db.session.get(Customer, site.newcomer_id))
        db.session.commit()
    site.page.goto(_last_link(app, "credential_create"))
    site.frame.get_by_role("heading", name="Create your credentials").wait_for()
    _sign_up(site.frame, "nora.n")
    site.frame.get_by_role("button", name="Save and continue").click()
    expect(site.frame.get_by_role("heading", name="You are signed up")).to_be_visible()


def test_self_enrolment_inside_the_iframe(app, site):
    site.page.goto(site.page_url)
    site.frame.get_by_role("link", name="Create credentials").click()
    site.frame.get_by_label("Email address").fill("nora@example.test")
    site.frame.get_by_role("button", name="Send me the link").click()
    site.frame.get_by_role("heading", name="Check your email").wait_for()
    frame = _open_in_new_tab(site, _last_link(app, "credential_create"))
    _sign_up(frame, "nora")
    frame.get_by_role("button", name="Save and continue").click()
    expect(frame.get_by_role("heading", name="You are signed up")).to_be_visible()


def test_password_reset_inside_the_iframe(app, site):
    site.page.goto(site.page_url)
    site.frame.get_by_role("link", name="Forgot password?").click()
    site.frame.get_by_label("Username or email").fill(site.username)
    site.frame.get_by_role("button", name="Send me the link").click()
    site.frame.get_by_role("heading", name="Check your email").wait_for()
    frame = _open_in_new_tab(site, _last_link(app, "password_reset"))
    frame.get_by_label("New password", exact=True).fill(PASSWORD)
    frame.get_by_label("New password again").fill(PASSWORD)
    frame.get_by_role("button", name="Save the new password").click()
    frame.get_by_text("Your password is changed.").wait_for()
    _sign_in(frame, site.username, PASSWORD)
    expect(frame.get_by_role("heading", name="Hello, Jane")).to_be_visible()


def test_temporary_password_inside_the_iframe(app, site):
    with app.app_context():
        merchant = db.session.get(Merchant, site.merchant_id)
        portal_access.send_temporary_password(merchant,
                                              db.session.get(Customer, site.customer_id))
        db.session.commit()
        body = db.session.scalar(select(EmailMessage.text_body))
    temporary = re.search(r"temporary password is (\S+)", body).group(1)
    site.page.goto(site.page_url)
    _sign_in(site.frame, site.username, temporary)
    site.frame.get_by_role("heading", name="Choose your own password").wait_for()
    site.frame.get_by_label("New password", exact=True).fill(PASSWORD)
    site.frame.get_by_label("New password again").fill(PASSWORD)
    site.frame.get_by_role("button", name="Save the new password").click()
    site.frame.get_by_text("Please sign in again with your new password.").wait_for()
    _sign_in(site.frame, site.username, PASSWORD)
    expect(site.frame.get_by_role("heading", name="Hello, Jane")).to_be_visible()


def test_lockout_message_inside_the_iframe(app, site):
    with app.app_context():
        merchant = db.session.get(Merchant, site.merchant_id)
        merchant.config = {**merchant.config, "security": {"lockout_threshold": 3,
                                                           "password_min_length": 10}}
        db.session.commit()
    site.page.goto(site.page_url)
    for _ in range(3):  # each attempt answered before the next (the old error stays shown)
        with site.page.expect_response(lambda r: r.request.method == "POST"
                                       and r.url.endswith("/login")):
            _sign_in(site.frame, site.username, "not-my-password")
        site.frame.locator("#password-error").wait_for()
    expect(site.frame.locator("#password-error")).to_contain_text(
        "contact Acme to unlock it.")  # any lock (#19-9)
