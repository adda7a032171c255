"""Admin sign-in (T-2): credentials, CSRF, rehash, revocation and framing policy."""
from argon2 import PasswordHasher
from sqlalchemy import select

from widget_server.core.extensions import db
from widget_server.tenancy.models import AdminUser


def test_owner_signs_in_and_sees_the_overview(client, browser_like, make_merchant):
    _, email = make_merchant("acme", name="Acme Ltd")
    response = browser_like.login(email, "owner-pass-123")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    page = client.get("/admin/").get_data(as_text=True)
    assert "Acme Ltd" in page
    assert email in page


def test_email_is_case_insensitive(client, browser_like, make_merchant):
    _, email = make_merchant("acme")
    assert browser_like.login(email.upper(), "owner-pass-123").status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_answer(client, browser_like, make_merchant):
    _, email = make_merchant("acme")
    wrong = browser_like.login(email, "not-the-password")
    unknown = browser_like.login("nobody@acme.test", "not-the-password")
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert "Email or password is incorrect." in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302  # still signed out


def test_login_without_csrf_token_is_refused(client, make_merchant):
    _, email = make_merchant("acme")
    client.get("/admin/login")
    response = client.post("/admin/login", data={"email": email, "password": "owner-pass-123"})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_signed_out_admin_is_sent_to_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")


def test_next_parameter_cannot_redirect_off_site(client, browser_like, make_merchant):
    _, email = make_merchant("acme")
    page = client.get("/admin/login?next=https://evil.example/")
    from tests.conftest import csrf_from

    response = client.post("/admin/login?next=https://evil.example/", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "email": email,
        "password": "owner-pass-123"})
    assert response.headers["Location"] == "/admin/"


def test_logout_revokes_a_captured_session_cookie(app, client, browser_like, make_merchant):
    _, email = make_merchant("acme")
    browser_like.login(email, "owner-pass-123")
    captured = client.get_cookie("ws_admin", path="/admin").value
    page = client.get("/admin/").get_data(as_text=True)
    from tests.conftest import csrf_from

    assert client.post("/admin/logout", data={"csrf_token": csrf_from(page)}).status_code == 302
    thief = app.test_client()
    thief.set_cookie("ws_admin", captured, path="/admin")
    assert thief.get("/admin/").status_code == 302


def test_password_is_rehashed_when_parameters_change(app, ctx, browser_like, make_merchant):
    _, email = make_merchant("acme")
    old = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("owner-pass-123")
    admin = db.session.scalar(select(AdminUser).where(AdminUser.email == email))
    admin.password_hash = old
    db.session.commit()
    app.config["ARGON2_MEMORY_COST"] = 16
    try:
        assert browser_like.login(email, "owner-pass-123").status_code == 302
    finally:
        app.config["ARGON2_MEMORY_COST"] = 8
    db.session.expire_all()
    new_hash = db.session.get(AdminUser, admin.id).password_hash
    assert new_hash != old
    assert new_hash.startswith("$argon2id$") and "m=16," in new_hash


def test_admin_pages_refuse_framing(client):
    response = client.get("/admin/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_login_over_https_passes_the_referer_check(app, make_merchant):
    _, email = make_merchant("acme")
    client = app.test_client()
    base = "https://localhost"
    page = client.get("/admin/login", base_url=base)
    from tests.conftest import csrf_from

    token = csrf_from(page.get_data(as_text=True))
    response = client.post("/admin/login", base_url=base, data={
        "csrf_token": token, "email": email, "password": "owner-pass-123"},
        headers={"Referer": f"{base}/admin/login"})
    assert response.status_code == 302
