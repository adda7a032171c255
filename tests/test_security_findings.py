"""Issue #19 security findings 8–12: each test failed before its fix."""

import pytest

from tests.conftest import csrf_from, widget_login
from widget_server.core.domain import DomainError
from widget_server.core.extensions import db
from widget_server.customers import services as customer_services
from widget_server.customers.models import Customer
from widget_server.tenancy.models import Merchant

# --- 12: the admin session is renewed at every sign-in (T-2, B-1) --------------------------

def _admin_csrf_secret(client):
    with client.session_transaction("/admin/login") as session:
        return session.get("csrf_token")


def test_admin_sign_in_starts_a_new_session(client, browser_like, make_merchant):
    """#19-12: the CSRF secret (and anything else in the cookie session) planted before sign-in
    must not survive it, as on the customer face (session fixation)."""
    _, email = make_merchant("acme")
    page = client.get("/admin/login").get_data(as_text=True)
    before = _admin_csrf_secret(client)
    assert before
    with client.session_transaction("/admin/login") as session:
        session["planted"] = "by-an-attacker"
    response = client.post("/admin/login", data={"csrf_token": csrf_from(page), "email": email,
                                                 "password": "owner-pass-123"})
    assert response.status_code == 302
    client.get("/admin/")  # a page with a form: a CSRF secret again
    with client.session_transaction("/admin/") as session:
        assert "planted" not in session
        assert session.get("csrf_token") != before
        assert session.get("_user_id")  # and signed in
    # the pre-login token is worthless after sign-in
    stale = client.post("/admin/logout", data={"csrf_token": csrf_from(page)})
    assert stale.status_code == 400
    assert client.get("/admin/").status_code == 200


# --- 10: router-level answers under /w/ and /p/ carry the widget's headers (E-3, B-1) -------

def _set_origins(app, merchant_id, origins):
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        merchant.config = {**(merchant.config or {}), "embedding": {"allowed_origins": origins}}
        db.session.commit()


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/w/acme/standard/no-such-page", 404),
    ("GET", "/p/acme/no-such-page", 404),
    ("GET", "/p/acme/invoices/99999999999", 404),  # the id converter refuses it: no route
    ("POST", "/w/acme/standard/cookie-check", 405),
    ("DELETE", "/p/acme/login", 405),
])
def test_router_level_errors_under_the_widget_carry_its_headers(app, portal, method, path,
                                                                 status):
    """#19-10: no widget route matched, so the face's after_request never ran: the answer had
    no CSP and no framing control, and any site could frame it."""
    p = portal()
    _set_origins(app, p.merchant_id, ["https://shop.example.com"])
    response = app.test_client().open(path, method=method)
    assert response.status_code == status
    csp = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'self' https://shop.example.com;" in csp
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/w/nobody/standard/x", "/p/nobody/x/y", "/w/", "/p"])
def test_router_level_errors_of_unknown_merchants_frame_only_on_this_site(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "frame-ancestors 'self';" in response.headers.get("Content-Security-Policy", "")


# --- 8: at least one valid Primary Email address, on every writer (C-2, C-4) ----------------

NO_ADDRESS = ["   ", ",", " ; , ", "\n\n", ",\n;"]


def _emails(app, customer_id):
    with app.app_context():
        return db.session.get(Customer, customer_id).primary_emails


@pytest.mark.parametrize("blank", NO_ADDRESS)
def test_the_customer_cannot_remove_every_primary_email(app, portal, blank):
    """#19-8: `InputRequired` passes "  " and the list parser returns no address, so the
    profile form emptied the list: no receipts, no password reset."""
    p = portal()
    client = app.test_client()
    widget_login(client, p.base, p.username, p.password)
    page = client.get(f"{p.base}/profile").get_data(as_text=True)
    response = client.post(f"{p.base}/profile", data={
        "csrf_token": csrf_from(page), "first_name": "Jane", "last_name": "Doe",
        "primary_email": blank})
    assert response.status_code == 400
    assert "Enter at least one email address." in response.get_data(as_text=True)
    assert _emails(app, p.customer_id) == p.emails


@pytest.mark.parametrize("blank", NO_ADDRESS)
def test_the_admin_cannot_save_a_customer_without_primary_email(app, portal, browser_like,
                                                                blank):
    p = portal()
    browser_like.login("owner@acme.test", "owner-pass-123")
    url = f"/admin/customers/{p.customer_id}"
    response = browser_like.submit(url, {"first_name": "Jane", "last_name": "Doe",
                                         "primary_email": blank})
    assert response.status_code == 400
    assert "Enter at least one email address." in response.get_data(as_text=True)
    assert _emails(app, p.customer_id) == p.emails
    new = browser_like.submit("/admin/customers/new", {"first_name": "Ann", "last_name": "Lee",
                                                       "primary_email": blank})
    assert new.status_code == 400
    with app.app_context():
        assert db.session.query(Customer).count() == 1


@pytest.mark.parametrize("emails", [[], ["  "], [""]])
def test_save_customer_refuses_an_empty_primary_email_list(app, portal, emails):
    """The service is the rule's home: an API or import calling it is held to it too."""
    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        customer = db.session.get(Customer, p.customer_id)
        with pytest.raises(DomainError) as refused:
            customer_services.save_customer(merchant, customer, details={}, emails=emails,
                                            custom_values={})
        assert refused.value.field == "primary_email"
        with pytest.raises(DomainError):
            customer_services.save_customer(merchant, None, details={"first_name": "Ann",
                                                                     "last_name": "Lee"},
                                            emails=emails, custom_values={})
        db.session.rollback()
    assert _emails(app, p.customer_id) == p.emails
