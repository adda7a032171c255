"""Real Chromium: an admin signs in, changes settings on a tab page, and they are kept."""
import pytest
from sqlalchemy import select

from widget_server.core.extensions import db
from widget_server.profiles import services as profile_services
from widget_server.profiles.models import SelfServiceProfile
from widget_server.tenancy.models import Merchant

pytestmark = pytest.mark.browser


@pytest.fixture
def merchant_with_profile(app, make_merchant):
    merchant_id, email = make_merchant("acme")
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        profile = profile_services.create_profile(merchant, "Retail", "retail")
        db.session.commit()
        return email, profile.id


def _sign_in(page, live_server, email):
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("owner-pass-123")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {email}").wait_for()


def test_admin_changes_payment_tab_and_sees_it_after_reload(app, page, live_server,
                                                            merchant_with_profile):
    email, profile_id = merchant_with_profile
    _sign_in(page, live_server, email)
    page.get_by_role("link", name="Profiles").first.click()
    page.get_by_role("link", name="Retail").click()
    page.get_by_role("navigation", name="Profile settings").get_by_role(
        "link", name="Payment").click()

    allow = page.get_by_label("Allow Payments")
    assert allow.is_checked()  # the declared default
    allow.uncheck()
    page.get_by_label("Payment Options: amount").select_option("any")
    page.get_by_label("ACH / bank").uncheck()
    page.get_by_role("button", name="Save changes").click()
    assert page.get_by_role("status").first.inner_text() == "Payment settings saved."

    page.reload()
    assert not page.get_by_label("Allow Payments").is_checked()
    assert page.get_by_label("Payment Options: amount").input_value() == "any"
    assert page.get_by_label("Credit card", exact=True).is_checked()
    assert not page.get_by_label("ACH / bank").is_checked()

    with app.app_context():
        profile = db.session.scalar(select(SelfServiceProfile).where(
            SelfServiceProfile.id == profile_id))
        assert profile.payment.allow_payments is False
        assert profile.payment.payment_amount == "any"
        assert profile.payment.payment_methods == ["card"]


def test_bad_url_is_refused_next_to_the_field_in_the_browser(app, page, live_server,
                                                             merchant_with_profile):
    email, profile_id = merchant_with_profile
    _sign_in(page, live_server, email)
    page.goto(f"{live_server}/admin/profiles/{profile_id}/tabs/payment")
    page.get_by_label("Success URL").fill("http://shop.example.com/thanks")
    page.get_by_role("button", name="Save changes").click()
    error = page.locator("#success_url-error")
    assert "must start with https://" in error.inner_text()
    assert page.get_by_label("Success URL").get_attribute("aria-describedby").endswith(
        "success_url-error")
