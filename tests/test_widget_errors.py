"""Issue #20-8: errors and signed-out states inside the widget are the widget's own pages, in
the merchant's theme, saying what happened and leading back; a customer signed out by a password
change elsewhere is told so on the sign-in page."""
import pytest

from tests.conftest import csrf_from, widget_login
from widget_server.core.extensions import db, limiter
from widget_server.profiles.models import SelfServiceProfile


def _theme(app, p, theme):
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, p.profile_id)
        profile.settings = {**(profile.settings or {}), "global": {"theme": theme},
                            "invoice": {"show_invoices": False}}
        db.session.commit()


def _branded(html, theme):
    assert f'class="theme-{theme}"' in html  # the widget's base, not the bare error.html
    assert "error.css" not in html
    assert 'id="main"' in html


@pytest.mark.parametrize("theme", ["default", "classic"])
def test_403_and_404_inside_the_widget_are_branded_and_lead_back(app, portal, theme):
    p = portal()
    _theme(app, p, theme)
    client = app.test_client()
    for base in (p.base, p.standalone):
        response = client.get(f"{base}/no-such-page")
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        _branded(html, theme)
        assert "<h1>Page not found</h1>" in html
        assert f'href="{base}/login">Back to sign-in</a>' in html
        assert "frame-ancestors" in response.headers["Content-Security-Policy"]
    widget_login(client, p.base, p.username, p.password)
    response = client.get(f"{p.base}/invoices")  # switched off in this profile
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    _branded(html, theme)
    assert "<h1>Not available here</h1>" in html and "contact acme" in html.lower()
    assert f'href="{p.base}/account">Back to your account</a>' in html
    assert 'aria-label="My account"' in html  # the signed-in customer keeps the navigation
    response = client.get(f"{p.base}/invoices/12345/nothing-here")
    assert response.status_code == 404
    assert "Back to your account" in response.get_data(as_text=True)


def test_a_rate_limit_inside_the_widget_is_branded(app, portal):
    p = portal()
    _theme(app, p, "classic")
    client = app.test_client()
    token = csrf_from(client.get(f"{p.base}/login").get_data(as_text=True))
    limiter.enabled = True
    try:
        for _ in range(25):
            response = client.post(f"{p.base}/login", data={
                "csrf_token": token, "login": "nobody", "password": "wrong-password"})
            if response.status_code == 429:
                break
    finally:
        limiter.enabled = False
        limiter.reset()
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    _branded(html, "classic")
    assert "<h1>Too many attempts</h1>" in html
    assert f'href="{p.base}/login">Back to sign-in</a>' in html


def _change_password_elsewhere(app, p, new="brand-new-pass-9"):
    other = app.test_client()
    widget_login(other, p.base, p.username, p.password)
    page = other.get(f"{p.base}/password")
    response = other.post(f"{p.base}/password", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "current": p.password,
        "password": new, "confirm": new})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def test_signed_out_by_a_password_change_elsewhere_is_told_so_once(app, portal):
    p = portal()
    client = app.test_client()
    widget_login(client, p.base, p.username, p.password)
    assert client.get(f"{p.base}/account").status_code == 200
    _change_password_elsewhere(app, p)
    response = client.get(f"{p.base}/account", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "<h1>Sign in</h1>" in html or "Sign in" in html
    assert "signed out because your password was changed" in html
    again = client.get(f"{p.base}/login").get_data(as_text=True)
    assert "signed out because your password was changed" not in again  # said once


def test_an_ordinary_sign_out_or_expiry_says_nothing_of_passwords(app, portal):
    p = portal()
    client = app.test_client()
    widget_login(client, p.base, p.username, p.password)
    page = client.get(f"{p.base}/account").get_data(as_text=True)
    client.post(f"{p.base}/logout", data={"csrf_token": csrf_from(page)})
    html = client.get(f"{p.base}/login").get_data(as_text=True)
    assert "password was changed" not in html


def test_a_wrong_method_inside_a_german_widget_is_its_german_page(app, portal):
    """Not only 403/404/429: a 405 (a sign-out link opened rather than posted) is the widget's
    page too, in the customer's language, never the server's bare English one."""
    from widget_server.tenancy.models import Merchant

    p = portal()
    with app.app_context():
        db.session.get(Merchant, p.merchant_id).locale = "de_DE"
        db.session.commit()
    client = app.test_client()
    response = client.get(f"{p.base}/logout")
    assert response.status_code == 405
    html = response.get_data(as_text=True)
    _branded(html, "default")
    assert 'lang="de"' in html and "<h1>Hier nicht verfügbar</h1>" in html
    assert f'href="{p.base}/login">Zurück zur Anmeldung</a>' in html
    assert "Back to" not in html
