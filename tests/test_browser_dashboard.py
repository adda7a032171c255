"""The admin dashboard in Chromium (issue #24's must-have test): the charts are drawn (bars with
their values as tooltips), their tables are beside them, the page is readable at a phone's width
and axe finds no serious or critical WCAG A/AA violation."""
import pytest

from tests.test_browser_accessibility import _serious
from tests.test_dashboard import books  # noqa: F401  (the hand-built ledger)

pytestmark = pytest.mark.browser


def test_the_dashboard_renders_its_charts_and_tables(page, live_server, books):  # noqa: F811
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill("owner-pass-123")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Ageing").wait_for()
    for name, bars in (("Outstanding by days past due", 5),
                       ("Collected per day, last 90 days", 90),
                       ("Monthly recurring revenue, last 12 months", 12)):
        chart = page.get_by_role("img", name=name)
        assert chart.is_visible()
        assert chart.locator("rect.chart-bar").count() == bars
        box = chart.bounding_box()
        assert box["width"] > 300 and box["height"] > 150
    tallest = page.locator("#chart-ageing rect.chart-bar").nth(4)  # over 90 days: $50.00
    assert tallest.locator("title").text_content() == "Over 90 days: $50.00"
    assert page.locator("#ageing-table tbody tr").count() == 5
    assert page.locator("#revenue-table tbody tr").last.inner_text().endswith("$20.00")
    page.get_by_text("The numbers per day").click()
    assert page.locator("#collections-table tbody tr").first.is_visible()
    assert _serious(page) == []
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360 + 1
    assert page.get_by_role("img", name="Outstanding by days past due").bounding_box()[
        "width"] <= 360
    assert _serious(page) == []
