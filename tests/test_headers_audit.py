"""Headers and cookies, face by face (#19 item 16): one representative answer of each face, its
security headers and its cookie's flags, checked together so a face that loses one shows here.

- admin: never framed (CSP frame-ancestors 'none' and X-Frame-Options DENY), not cached, its
  cookie HttpOnly, SameSite=Lax, on /admin only, Secure when the public URL is https;
- widget (/w/ and /p/): framed only by the merchant's origins, not cached, its cookie
  SameSite=None; Secure; Partitioned; HttpOnly (`__Host-` over https); the same on its error
  pages, the router's 404/405 included;
- embed loader, health, media: no cookie, nosniff; media sandboxed.
"""
import re

import pytest

from tests.conftest import csrf_from
from tests.tenant_support import build_tenant, sign_in_customer, sign_in_owner

REFERRER = "strict-origin-when-cross-origin"


@pytest.fixture
def t(app, make_merchant):
    tenant = build_tenant(app, make_merchant, "alpha", "Aardvarq")
    with app.app_context():
        from widget_server.core.extensions import db
        from widget_server.tenancy.models import Merchant

        merchant = db.session.get(Merchant, tenant.merchant_id)
        merchant.config = {**merchant.config,
                           "embedding": {"allowed_origins": ["https://shop.example.test"]}}
        db.session.commit()
    return tenant


def csp(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: " ".join(part.split()[1:])
            for part in (p.strip() for p in header.split(";")) if part}


def cookies(response) -> dict[str, dict[str, str | bool]]:
    """Set-Cookie headers by name: attribute (lower case) -> value, or True for a flag."""
    found = {}
    for header in response.headers.getlist("Set-Cookie"):
        name_value, *attributes = [p.strip() for p in header.split(";")]
        name = name_value.split("=", 1)[0]
        found[name] = {}
        for attribute in attributes:
            key, _, value = attribute.partition("=")
            found[name][key.lower()] = value or True
    return found


def assert_common(response):
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == REFERRER


def assert_admin_headers(response):
    assert_common(response)
    policy = csp(response)
    assert policy["frame-ancestors"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "unsafe-inline" not in policy["script-src"]
    assert policy["base-uri"] == "'none'" and policy["form-action"] == "'self'"
    assert "no-store" in response.headers["Cache-Control"]


def assert_widget_headers(response, origins=("https://shop.example.test",)):
    assert_common(response)
    policy = csp(response)
    assert policy, "no Content-Security-Policy"
    assert policy["frame-ancestors"].split() == ["'self'", *origins]
    assert "unsafe-inline" not in policy["script-src"]
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"
    assert "X-Frame-Options" not in response.headers  # would forbid the merchant's own site
    assert "no-store" in response.headers["Cache-Control"]


def assert_no_cookie(response):
    assert response.headers.getlist("Set-Cookie") == []


# --- admin ---------------------------------------------------------------------------------

def test_admin_sign_in_page_and_cookie(app, client, t):
    page = client.get("/admin/login")
    assert page.status_code == 200
    assert_admin_headers(page)
    cookie = cookies(page)["ws_admin"]
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax"
    assert cookie["path"] == "/admin" and "partitioned" not in cookie and "domain" not in cookie


def test_admin_cookie_is_secure_behind_https(app, client, t, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    cookie = cookies(client.get("/admin/login", base_url="https://localhost"))["ws_admin"]
    assert cookie["secure"] is True and cookie["httponly"] is True
    assert cookie["samesite"] in ("Lax", "Strict")


def test_signed_in_admin_pages(app, t):
    sign_in_owner(app, t)
    for url in ("/admin/", "/admin/customers", f"/admin/customers/{t.customer_id}",
                f"/admin/profiles/{t.profile_id}", "/admin/emails"):
        answer = t.admin.get(url)
        assert answer.status_code == 200, url
        assert_admin_headers(answer)
    assert_admin_headers(t.admin.get("/admin/customers/999999"))  # its 404 too
    assert_admin_headers(t.admin.get("/admin/no-such-page"))


def test_the_email_preview_is_sandboxed(app, t):
    sign_in_owner(app, t)
    answer = t.admin.get(f"/admin/emails/{t.message_id}/html")
    assert answer.status_code == 200
    policy = csp(answer)
    assert "sandbox" in policy and policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'self'"
    assert answer.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert_common(answer)


# --- widget --------------------------------------------------------------------------------

def _widget_cookie(response, name="ws_widget"):
    return cookies(response)[name]


def assert_widget_cookie(cookie):
    assert cookie["samesite"] == "None" and cookie["secure"] is True
    assert cookie["partitioned"] is True and cookie["httponly"] is True
    assert cookie["path"] == "/" and "domain" not in cookie


@pytest.mark.parametrize("prefix", ["/w/alpha/standard", "/p/alpha"])
def test_widget_sign_in_page_and_cookie(app, client, t, prefix):
    page = client.get(f"{prefix}/login")
    assert page.status_code == 200
    assert_widget_headers(page)
    assert_widget_cookie(_widget_cookie(page))


def test_widget_cookie_over_https_is_host_prefixed(app, client, t):
    page = client.get("/w/alpha/standard/login", base_url="https://localhost")
    assert_widget_cookie(_widget_cookie(page, "__Host-ws_widget"))
    # and its forms still post there (the CSRF check reads the Referer over https)
    answer = client.post("/w/alpha/standard/login", base_url="https://localhost",
                         headers={"Referer": "https://localhost/w/alpha/standard/login"},
                         data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                               "login": "aardvarq-user", "password": "customer-pass-1"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/account")


def test_signed_in_widget_pages(app, t):
    sign_in_customer(app, t)
    for path in ("/account", "/invoices", f"/invoices/{t.invoice_ids[0]}", "/pay", "/payments",
                 "/methods", "/profile"):
        answer = t.widget.get(t.base + path)
        assert answer.status_code == 200, path
        assert_widget_headers(answer)
    pdf = t.widget.get(f"{t.base}/invoices/{t.invoice_ids[0]}.pdf")
    assert pdf.mimetype == "application/pdf"
    assert_widget_headers(pdf)


def test_widget_pages_of_a_view_refusal(app, client, t):
    """A 404 a widget view answers (an invoice that is not the customer's), a 403 of a switch,
    an unknown merchant: the widget's own headers."""
    sign_in_customer(app, t)
    assert_widget_headers(t.widget.get(f"{t.base}/invoices/999999"))
    unknown = client.get("/w/no-such-merchant/standard/login")
    assert unknown.status_code == 404
    assert_widget_headers(unknown, origins=())
    preview = client.get(f"{t.base}/preview?token=forged")
    assert preview.status_code == 403
    assert_widget_headers(preview)


ROUTER_LEVEL = [("GET", "/w/alpha/standard/no-such-page", 404), ("GET", "/p/alpha/no-such-page",
                                                                  404),
                ("GET", "/w/alpha/standard/logout", 405), ("POST", "/p/alpha/account", 405)]


@pytest.mark.parametrize(("method", "url", "status"), ROUTER_LEVEL)
def test_router_level_404_and_405_under_the_widget_carry_its_headers(client, t, method, url,
                                                                     status):
    answer = client.open(url, method=method)
    assert answer.status_code == status
    policy = csp(answer)
    assert policy.get("frame-ancestors"), "no framing control"
    assert "'none'" in policy["frame-ancestors"] or "'self'" in policy["frame-ancestors"]


@pytest.mark.parametrize(("method", "url", "status"), ROUTER_LEVEL)
def test_router_level_404_and_405_under_the_widget_are_plain_answers(client, t, method, url,
                                                                     status):
    """What holds today and after item 10: the status, nosniff, and no stack trace."""
    answer = client.open(url, method=method)
    assert answer.status_code == status
    assert_common(answer)
    assert "Traceback" not in answer.get_data(as_text=True)


# --- the faces without a session ---------------------------------------------------------

def test_embed_loader(client):
    answer = client.get("/embed/loader.js")
    assert answer.status_code == 200 and answer.mimetype == "text/javascript"
    assert_common(answer)
    assert_no_cookie(answer)
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert re.search(r"max-age=\d+", answer.headers["Cache-Control"])


def test_embed_targets(client, t):
    answer = client.get("/embed/targets/alpha/standard")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert_common(answer)
    assert_no_cookie(answer)


def test_health(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert_common(answer)
    assert_no_cookie(answer)


def test_media(client, t):
    answer = client.get(f"/media/{t.logo}")
    assert answer.status_code == 200 and answer.mimetype == "image/png"
    assert_common(answer)
    assert_no_cookie(answer)
    policy = csp(answer)
    assert policy["default-src"] == "'none'" and "sandbox" in policy
    assert "immutable" in answer.headers["Cache-Control"]
    missing = client.get(f"/media/{t.logo.split('/')[0]}/{'0' * 16}")
    assert missing.status_code == 404
    assert_common(missing)
    assert_no_cookie(missing)
