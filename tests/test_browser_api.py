"""The API in Chromium (issue #25): the admin makes a key, reads it once, the key works; the
docs page it links to loads nothing from another host, reads at 320 px and passes axe."""
import pytest
import requests

from tests.test_browser_accessibility import _serious

pytestmark = pytest.mark.browser


def test_the_admin_makes_a_key_and_opens_the_docs(page, live_server, make_merchant):
    make_merchant("acme")
    hosts = []
    page.on("request", lambda r: hosts.append(r.url.split("/")[2]))
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill("owner-pass-123")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="API keys", exact=True).first.click()
    page.get_by_label("Name").fill("Shop backend")
    page.get_by_role("button", name="Create key").click()
    secret = page.get_by_label("Secret key").input_value()
    assert secret.startswith("sk_live_") and len(secret) == 51
    assert _serious(page) == []
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 321
    page.set_viewport_size({"width": 1280, "height": 800})
    answer = requests.get(f"{live_server}/api/v1/customers", timeout=10,
                          headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200 and answer.json()["data"] == []
    page.goto(f"{live_server}/admin/api-keys")  # shown once: gone on the next visit
    assert page.get_by_label("Secret key").count() == 0
    assert page.get_by_text(f"{secret[:12]}…").is_visible()
    page.get_by_role("link", name="API reference").click()
    page.get_by_role("heading", name="POST /api/v1/customers").wait_for()
    document = page.request.get(f"{live_server}/api/v1/openapi.json").json()
    operations = sum(len([m for m in item if m in ("get", "post", "patch", "put", "delete")])
                     for item in document["paths"].values())
    assert operations >= 20  # customers, products, invoices, payments, orders, proposals, SSO
    assert page.locator("section.operation").count() == operations  # every one shown
    assert _serious(page) == []
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 321
    assert set(hosts) == {live_server.split("/")[2]}
