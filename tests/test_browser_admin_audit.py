"""Custom field editing and the audit log in Chromium (#24 items 4 and 6): a field is moved by
keyboard alone, renamed, refused a type change beside the field, and the audit log shows each
change and filters them; axe finds no serious or critical WCAG A/AA violation on any page."""
import pytest

from tests.test_browser_accessibility import _serious

pytestmark = pytest.mark.browser


def test_fields_edited_by_keyboard_and_read_in_the_audit_log(app, page, live_server, portal):
    from widget_server.core.extensions import db
    from widget_server.customers import fields as field_service
    from widget_server.customers.models import Customer
    from widget_server.tenancy.models import Merchant

    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        merchant.timezone = "Europe/Berlin"
        ids = {name: field_service.create_definition(merchant, name=name, field_type="text",
                                                     required=False, choices=[]).id
               for name in ("Region", "Tier")}
        db.session.get(Customer, p.customer_id).custom_fields = {str(ids["Tier"]): "Gold"}
        db.session.commit()
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill("owner-pass-123")
    page.get_by_role("button", name="Sign in").click()

    page.goto(f"{live_server}/admin/custom-fields")
    assert _serious(page) == []
    page.get_by_role("button", name="Move Tier up").focus()
    page.keyboard.press("Enter")
    page.get_by_text("“Tier” moved up.").wait_for()
    # the keyboard stays on the field just moved (now first: its Down button)
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == \
        "Move Tier down"
    names = page.locator("#field-" + str(ids["Tier"])).locator("xpath=..").locator(
        "tr td:first-child").all_inner_texts()
    assert names == ["Tier", "Region"]
    assert _serious(page) == []

    page.get_by_role("link", name="Edit Tier").click()
    page.get_by_role("heading", name="Edit custom field “Tier”").wait_for()
    assert page.get_by_text("The type cannot change: 1 customer has a value").is_visible()
    assert _serious(page) == []
    page.get_by_label("Field name").fill("")
    page.get_by_role("button", name="Save field").click()
    page.get_by_text("Please correct the fields marked below").wait_for()
    assert _serious(page) == []  # the error state too
    page.get_by_label("Field name").fill("Support level")
    page.get_by_label("Required").check()
    page.get_by_role("button", name="Save field").click()
    page.get_by_text("Custom field “Support level” saved.").wait_for()

    page.get_by_role("link", name="Audit log").click()
    page.get_by_role("heading", name="Audit log").wait_for()
    table = page.locator("#audit-entries")
    assert table.get_by_text("Custom field changed").is_visible()
    assert table.get_by_text("Custom field moved").is_visible()
    assert "Tier → Support level" in table.inner_text()
    assert "CET" in table.inner_text() or "CEST" in table.inner_text()
    assert _serious(page) == []
    page.get_by_label("Action").select_option(label="Custom field moved")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**action=custom_field.moved**")
    assert page.locator("#audit-entries tbody tr").count() == 1
    page.get_by_label("From").fill("2001-01-01")
    page.get_by_label("To").fill("2001-01-02")
    page.get_by_role("button", name="Filter").click()
    page.get_by_text("No entries match these filters.").wait_for()
    assert _serious(page) == []
