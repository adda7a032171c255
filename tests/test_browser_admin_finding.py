"""Finding things in the admin, in Chromium (issue #24 item 2): a de_DE merchant types "lukas"
and "Überfällig"-free English filters, finds Łukasiewicz's overdue invoice, starts a new invoice
for him from the list, and looks up a payment; axe finds no serious or critical WCAG A/AA
violation on these pages, the filter errors included, and they fit a 320 px screen."""
import pytest

from tests.test_admin_finding import books  # noqa: F401  (the fixture)
from tests.test_browser_accessibility import _serious

pytestmark = pytest.mark.browser


def test_find_invoices_payments_and_customers_in_the_browser(app, page, live_server, books):  # noqa: F811
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill("owner-pass-123")
    page.get_by_role("button", name="Sign in").click()

    page.goto(f"{live_server}/admin/invoices")
    page.get_by_role("heading", name="Invoices").wait_for()
    assert _serious(page) == []
    page.get_by_label("Search").fill("lukas")
    page.get_by_label("Status").select_option(label="Overdue")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="INV-00003").wait_for()
    assert page.get_by_role("link", name="INV-00002").count() == 0
    assert page.get_by_role("cell", name="Overdue").count() == 1
    assert _serious(page) == []

    page.get_by_label("Issued from").fill("31.02.2026")  # no such day: shown, not guessed
    page.get_by_role("button", name="Filter").click()
    page.locator("#date_from-error").wait_for()
    assert _serious(page) == []

    page.goto(f"{live_server}/admin/invoices")
    page.get_by_role("link", name="New invoice").click()
    page.get_by_role("heading", name="New invoice").wait_for()
    page.get_by_role("searchbox", name="Customer").fill("ŁUKAS")
    page.get_by_role("button", name="Find").click()
    assert _serious(page) == []
    page.get_by_role("link", name="New invoice for Ignacy Łukasiewicz").click()
    page.get_by_role("heading", name="New invoice for Ignacy Łukasiewicz").wait_for()

    page.goto(f"{live_server}/admin/payments")
    page.get_by_role("cell", name="PAY-00001").wait_for()
    assert _serious(page) == []
    page.get_by_label("Search").fill("pi_9F")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("cell", name="Failed").wait_for()
    assert page.get_by_role("cell", name="PAY-00001").count() == 0

    page.set_viewport_size({"width": 320, "height": 700})
    for url in ("/admin/invoices?q=lukas", "/admin/payments", "/admin/customers?q=lukas"):
        page.goto(f"{live_server}{url}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (url, overflow)  # a wide table scrolls in its own box
        assert _serious(page) == []
