"""Issue #19 security findings 8–12: each test failed before its fix."""
import re

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from, widget_login
from widget_server.core.extensions import db
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
