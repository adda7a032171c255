"""Customer sessions in the widget (E-3, E-4, C-1): cookies per path, revocation, isolation, CSP."""
import pytest
from flask import request

from tests.conftest import csrf_from, widget_login
from widget_server.core.extensions import db
from widget_server.tenancy.models import Merchant


def _set_cookie_headers(response):
    return response.headers.getlist("Set-Cookie")


def _attributes(header: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}


def test_widget_cookie_is_partitioned_cross_site_cookie(client, portal):
    p = portal()
    [header] = _set_cookie_headers(client.get(f"{p.base}/login"))
    assert header.startswith("ws_widget=")
    assert {"secure", "httponly", "partitioned", "samesite"} <= _attributes(header)
    assert "SameSite=None" in header and "Path=/" in header and "Domain" not in header


def test_widget_cookie_gets_host_prefix_over_https(app, portal):
    p = portal()
    client = app.test_client()
    [header] = _set_cookie_headers(client.get(f"{p.base}/login", base_url="https://localhost"))
    assert header.startswith("__Host-ws_widget=")
    assert "Partitioned" in header and "Secure" in header


def test_admin_cookie_is_lax_and_scoped_to_admin(client):
    [header] = _set_cookie_headers(client.get("/admin/login"))
    assert header.startswith("ws_admin=")
    assert "SameSite=Lax" in header and "Path=/admin" in header
    assert "Partitioned" not in header


@pytest.mark.parametrize("path", ["/healthz", "/theme/default/widget.css", "/no-such-page"])
def test_paths_outside_the_faces_get_no_session(client, path):
    with client.get(path) as response:
        assert _set_cookie_headers(response) == []


def test_customer_signs_in_by_username_or_any_primary_email(app, portal):
    p = portal()
    for login in (p.username, p.emails[1].upper()):
        client = app.test_client()
        response = widget_login(client, p.base, login, p.password)
        assert response.status_code == 302, login
        assert response.headers["Location"].endswith(f"{p.base}/account")
        assert "Hello, Jane" in client.get(f"{p.base}/account").get_data(as_text=True)


def test_wrong_password_and_unknown_login_answer_alike(client, portal):
    p = portal()
    for login in (p.username, "nobody@example.test"):
        response = widget_login(client, p.base, login, "wrong-password")
        assert response.status_code == 400
        assert "Username/email or password is incorrect." in response.get_data(as_text=True)
    assert client.get(f"{p.base}/account").status_code == 302


def test_login_without_csrf_token_is_refused(client, portal):
    p = portal()
    client.get(f"{p.base}/login")
    response = client.post(f"{p.base}/login", data={"login": p.username,
                                                     "password": p.password},
                           follow_redirects=True)
    assert "Your session was renewed. Please try again." in response.get_data(as_text=True)
    assert client.get(f"{p.base}/account").status_code == 302


def test_two_frames_starting_sessions_at_once_can_both_post(app, portal):
    """Two widgets on one page share one cookie; the frame whose cookie lost the race takes the
    current token from the cookie check before posting (as widget.js does)."""
    p = portal()
    client = app.test_client()
    first_token = csrf_from(client.get(f"{p.base}/login").get_data(as_text=True))
    client.delete_cookie("ws_widget")
    client.get(f"{p.base}/login")  # the second frame's session wins the cookie
    stale = client.post(f"{p.base}/login", data={"csrf_token": first_token, "login": p.username,
                                                 "password": p.password})
    assert stale.status_code == 302 and stale.headers["Location"].endswith("/login")
    fresh = client.get(f"{p.base}/cookie-check").get_json()["csrf"]
    response = client.post(f"{p.base}/login", data={"csrf_token": fresh, "login": p.username,
                                                    "password": p.password})
    assert response.headers["Location"].endswith("/account")


def test_login_over_https_with_referer_check(app, portal):
    p = portal()
    client = app.test_client()
    base_url = "https://localhost"
    response = widget_login(client, p.base, p.username, p.password, base_url=base_url,
                            headers={"Referer": f"{base_url}{p.base}/login"})
    assert response.status_code == 302
    assert client.get(f"{p.base}/account", base_url=base_url).status_code == 200


def test_new_session_id_on_every_login(app, portal):
    p = portal()
    client = app.test_client()
    widget_login(client, p.base, p.username, p.password)
    first = client.get_cookie("ws_widget").value
    client.set_cookie("ws_widget", first)
    token = csrf_from(client.get(f"{p.base}/account").get_data(as_text=True))
    client.post(f"{p.base}/logout", data={"csrf_token": token})
    widget_login(client, p.base, p.username, p.password)
    assert client.get_cookie("ws_widget").value != first


def test_captured_cookie_is_worthless_after_logout(app, portal):
    p = portal()
    client = app.test_client()
    widget_login(client, p.base, p.username, p.password)
    captured = client.get_cookie("ws_widget").value
    page = client.get(f"{p.base}/account").get_data(as_text=True)
    response = client.post(f"{p.base}/logout", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    thief = app.test_client()
    thief.set_cookie("ws_widget", captured)
    assert thief.get(f"{p.base}/account").status_code == 302


def test_session_is_worthless_at_another_merchant(app, portal):
    ours = portal("acme")
    theirs = portal("globex", username="jane")
    client = app.test_client()
    widget_login(client, ours.base, ours.username, ours.password)
    assert client.get(f"{ours.base}/account").status_code == 200
    assert client.get(f"{theirs.base}/account").status_code == 302
    assert client.get(f"{theirs.standalone}/account").status_code == 302


def test_csp_frame_ancestors_lists_only_allowed_origins(app, portal):
    p = portal(config={"embedding": {"allowed_origins": ["https://shop.example.com"]}})
    csp = app.test_client().get(f"{p.base}/login").headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://shop.example.com;" in csp
    assert "script-src 'self';" in csp
    assert "X-Frame-Options" not in app.test_client().get(f"{p.base}/login").headers


def test_standalone_portal_serves_the_default_profile(app, portal):
    p = portal()
    client = app.test_client()
    response = widget_login(client, p.standalone, p.username, p.password)
    assert response.headers["Location"].endswith(f"{p.standalone}/account")
    assert "Hello, Jane" in client.get(f"{p.standalone}/account").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/w/nope/standard/login", "/w/acme/nope/login", "/p/nope/login",
                                  "/w/acme/standard/../../admin/login"])
def test_unknown_merchant_or_profile_is_a_clear_404(client, portal, path):
    portal()
    response = client.get(path)
    assert response.status_code == 404
    assert response.status_code != 500


def test_disabled_profile_and_portal_switch_show_unavailable(app, client, portal):
    p = portal()
    with app.app_context():
        from widget_server.profiles.models import SelfServiceProfile

        profile = db.session.get(SelfServiceProfile, p.profile_id)
        profile.enabled = False
        db.session.commit()
    response = client.get(f"{p.base}/login")
    assert response.status_code == 403
    assert "The customer portal is unavailable" in response.get_data(as_text=True)
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, p.profile_id)
        profile.enabled = True
        merchant = db.session.get(Merchant, p.merchant_id)
        merchant.config = {"portal": {"enable_customer_portal": False}}
        db.session.commit()
    for url in (f"{p.base}/login", f"{p.standalone}/login", f"{p.base}/account"):
        response = client.get(url)
        assert response.status_code == 403
        assert "The customer portal is unavailable" in response.get_data(as_text=True)


def test_server_keeps_only_a_hash_of_the_session_token(app, portal):
    import hashlib

    from sqlalchemy import select

    from widget_server.customers.models import PortalSession

    p = portal()
    client = app.test_client()
    widget_login(client, p.base, p.username, p.password)
    with app.test_request_context(f"{p.base}/login"):
        payload = app.session_interface.get_signing_serializer(app).loads(
            client.get_cookie("ws_widget").value)
    token = payload["portal_sid"]
    assert len(token) >= 40
    with app.app_context():
        stored = db.session.scalars(select(PortalSession.token_hash)).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]


def test_an_unavailable_portal_keeps_no_session_alive(app, client, portal):
    """A page that answers "unavailable" (the profile switched off, a made-up profile) signs
    nobody in and does not count as the session's use: its idle time runs on (#26 review)."""
    from datetime import timedelta

    from widget_server.core.database import utcnow
    from widget_server.customers.models import PortalSession
    from widget_server.profiles.models import SelfServiceProfile

    p = portal()
    assert widget_login(client, p.base, p.username, p.password).status_code == 302
    idle_since = utcnow() - timedelta(minutes=10)
    with app.app_context():
        db.session.query(PortalSession).one().last_seen_at = idle_since
        db.session.get(SelfServiceProfile, p.profile_id).enabled = False
        db.session.commit()
    assert client.get(f"{p.base}/login").status_code == 403
    assert client.get(f"/w/{p.slug}/no-such-profile/login").status_code == 404
    with app.app_context():
        assert db.session.query(PortalSession).one().last_seen_at == idle_since


def test_a_sessions_form_token_is_its_own_on_every_page(app, portal):
    """The signed CSRF token a page carries is made once per session (#26): the same on each
    page of a session, different in another session, and a post with the first page's token
    is still accepted after later pages."""
    p = portal()
    jane, other = app.test_client(), app.test_client()
    widget_login(jane, p.base, p.username, p.password)
    first = csrf_from(jane.get(f"{p.base}/account").get_data(as_text=True))
    again = csrf_from(jane.get(f"{p.base}/invoices").get_data(as_text=True))
    assert first == again
    assert csrf_from(other.get(f"{p.base}/login").get_data(as_text=True)) != first
    signed_out = jane.post(f"{p.base}/logout", data={"csrf_token": first})
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]
    assert jane.get(f"{p.base}/account").status_code == 302  # signed out indeed


def test_a_session_cookie_past_its_lifetime_is_refused_though_seen_before(app, portal,
                                                                         monkeypatch):
    """A verified cookie's payload is kept between requests (#26), but its age is checked on
    every request: once past the session lifetime it opens no session, as before."""
    import time

    p = portal()
    jane = app.test_client()
    widget_login(jane, p.base, p.username, p.password)
    assert jane.get(f"{p.base}/account").status_code == 200
    assert jane.get(f"{p.base}/account").status_code == 200  # the kept payload
    later = time.time() + app.permanent_session_lifetime.total_seconds() + 60
    monkeypatch.setattr(time, "time", lambda: later)
    expired = jane.get(f"{p.base}/account")
    assert expired.status_code == 302 and "/login" in expired.headers["Location"]
    tampered = jane.get(f"{p.base}/account", headers={"Cookie": "ws_widget=x.y.z"})
    assert tampered.status_code == 302



def test_cookies_parsed_once_per_header_are_each_requests_own(app):
    """Cookies are parsed once per distinct Cookie header (#26): each request reads the ones
    it sent, and what two requests share cannot be changed by either."""
    with app.test_request_context("/", headers={"Cookie": "a=1; b=two"}):
        first = request.cookies
        assert first["a"] == "1" and first["b"] == "two"
        with pytest.raises(TypeError):
            first["a"] = "3"
    with app.test_request_context("/", headers={"Cookie": "a=1; b=two"}):
        assert request.cookies is first
    with app.test_request_context("/", headers={"Cookie": "a=9"}):
        assert dict(request.cookies) == {"a": "9"}
    with app.test_request_context("/"):
        assert dict(request.cookies) == {}
