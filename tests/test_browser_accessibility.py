"""Accessibility in real Chromium (B-4): axe-core finds no serious or critical WCAG A/AA
violation, the login works by keyboard alone, and the admin's preview follows unsaved changes."""
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select

pytestmark = pytest.mark.browser

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                              "wcag22aa"]}}


def _serious(page):
    results = Axe().run(page, options=WCAG)
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("theme", ["default", "classic"])
def test_login_and_overview_pass_axe(app, page, live_server, portal, theme):
    from widget_server.core.extensions import db
    from widget_server.profiles.models import SelfServiceProfile

    p = portal()
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, p.profile_id)
        profile.settings = {"global": {"theme": theme}}
        db.session.commit()
    page.goto(f"{live_server}{p.standalone}/login")
    assert _serious(page) == []
    page.get_by_label("Username or email").fill(p.username)
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Username/email or password is incorrect.").wait_for()
    assert _serious(page) == []  # the error state too
    page.get_by_label("Password").fill(p.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Hello, Jane").wait_for()
    assert _serious(page) == []


def test_login_by_keyboard_alone(page, live_server, portal):
    p = portal()
    page.goto(f"{live_server}{p.standalone}/login")
    page.keyboard.press("Tab")  # first the skip link (issue #20-7)
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "login"
    page.keyboard.type(p.username)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(p.password)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Hello, Jane").wait_for()
    # and out again: the focus is on the heading now (issue #20-7), just after the navigation:
    # Shift+Tab reaches "Sign out", Enter signs out
    page.wait_for_function("() => document.activeElement.tagName === 'H1'")
    for _ in range(10):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Sign out":
            break
    page.keyboard.press("Enter")
    page.get_by_text("You are signed out.").wait_for()
    # the focus is on the sign-in heading, which carries the notice for a screen reader
    page.wait_for_function("() => document.activeElement.tagName === 'H1'")
    assert page.evaluate("document.getElementById(document.activeElement"
                         ".getAttribute('aria-describedby')).textContent") == \
        "You are signed out."


def test_preview_follows_unsaved_global_changes(page, live_server, portal):
    p = portal()
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill("owner-pass-123")
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/admin/profiles/{p.profile_id}/tabs/global")
    preview = page.frame_locator("iframe.preview")
    preview.get_by_text("Hello, Alex").wait_for()
    assert preview.locator(".masthead").count() == 0
    page.get_by_label("Theme").select_option("classic")
    preview.locator(".masthead").wait_for()
    # nothing was saved
    page.reload()
    assert page.get_by_label("Theme").input_value() == "default"


def test_preview_sizes_itself_like_the_real_widget(page, live_server, portal):
    """Issue #20-9: the preview frame follows its content's height (as the loader does on a
    merchant's site): nothing is clipped, nothing scrolls inside it."""
    p = portal()
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill("owner-pass-123")
    page.get_by_role("button", name="Sign in").click()
    for path in (f"/admin/profiles/{p.profile_id}", f"/admin/profiles/{p.profile_id}/tabs/global"):
        page.goto(f"{live_server}{path}")
        preview = page.frame_locator("iframe.preview")
        preview.get_by_text("Hello, Alex").wait_for()
        assert [n.strip() for n in preview.locator("nav li a").all_inner_texts()] == [
            "Overview", "Invoices", "Pay", "Payments", "Payment methods", "Profile"]
        page.wait_for_function("() => { const f = document.querySelector('iframe.preview');"
                               " const w = f.contentDocument.getElementById('widget');"
                               " return w && Math.abs(f.getBoundingClientRect().height"
                               " - w.getBoundingClientRect().height) <= 3; }")
        assert preview.locator("html").evaluate("el => el.scrollHeight <= el.clientHeight + 1")


def test_billing_pages_pass_axe(app, page, live_server, billed):
    """Pay (every option shown), payment history, saved methods and invoices."""
    from tests.payment_support import CARD, add_money_back, pay_form, set_payment
    from widget_server.core.extensions import db
    from widget_server.profiles.models import SelfServiceProfile

    set_payment(app, billed, {"edit_effective_date": True, "payment_amount": "any"})
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, billed.profile_id)
        profile.settings = {**profile.settings, "invoice": {"allow_new_invoice": True}}
        db.session.commit()
    billed.client.post(f"{billed.base}/pay", data={  # a saved card and a payment to list
        **pay_form(billed), **CARD, "invoice": str(billed.invoice_ids[0]), "save_method": "y"})
    add_money_back(app, billed)  # refunds and credit notes listed too (#24)
    page.goto(f"{live_server}{billed.standalone}/login")
    page.get_by_label("Username or email").fill(billed.username)
    page.get_by_label("Password").fill(billed.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Hello, Jane").wait_for()
    for path, heading in (("/pay", "Make a payment"), ("/payments", "Payments"),
                          ("/methods", "Payment methods"), ("/invoices", "Invoices"),
                          ("/invoices/new", "New invoice")):
        page.goto(f"{live_server}{billed.standalone}{path}")
        page.get_by_role("heading", name=heading, exact=True).wait_for()
        assert (path, _serious(page)) == (path, [])


def test_on_a_phone_tables_become_labelled_rows(app, page, live_server, billed):
    """Issue #20: the loader's iframe never scrolls sideways, and a table scrolling in its own
    box hid columns behind an unhinted scroller. At phone widths each row is a stack of its
    values, each under its column's name; wide, the table is a table again."""
    from datetime import date, timedelta

    from tests.payment_support import CARD, pay_form, set_payment

    set_payment(app, billed, {"edit_effective_date": True})
    billed.client.post(f"{billed.base}/pay", data={
        **pay_form(billed), **CARD, "invoice": str(billed.invoice_ids[0]),
        "payment_date": (date.today() + timedelta(days=3)).isoformat()})
    page.set_viewport_size({"width": 320, "height": 700})  # the narrowest phone we serve
    page.goto(f"{live_server}{billed.standalone}/login")
    page.get_by_label("Username or email").fill(billed.username)
    page.get_by_label("Password").fill(billed.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Hello, Jane").wait_for()
    cells = """() => [...document.querySelectorAll('td[data-label]')].map(td => {
        const box = td.getBoundingClientRect();
        return [td.dataset.label, getComputedStyle(td, '::before').content,
                box.left >= 0 && box.right <= innerWidth];
    })"""
    for path in ("/account", "/payments", "/invoices", f"/invoices/{billed.invoice_ids[1]}"):
        page.goto(f"{live_server}{billed.standalone}{path}")
        assert page.evaluate("document.documentElement.scrollWidth - innerWidth") == 0, path
        shown = page.evaluate(cells)
        assert shown and all(content == f'"{label}"' and inside
                             for label, content, inside in shown), (path, shown)
        # the header row is left to screen readers: its names are on the rows
        assert page.evaluate("document.querySelector('thead').getBoundingClientRect().height") <= 1
    page.goto(f"{live_server}{billed.standalone}/payments")
    assert page.get_by_role("button", name="Cancel").is_visible()
    assert page.locator(".table-scroll").count() == 0
    page.set_viewport_size({"width": 1024, "height": 700})  # wide: a table, with its header
    assert page.evaluate("getComputedStyle(document.querySelector('td')).display") == \
        "table-cell"
    assert page.evaluate("getComputedStyle(document.querySelector('td'), '::before').content") \
        == "none"
    assert page.get_by_role("columnheader", name="Amount").is_visible()


def test_profile_page_with_yes_no_fields_passes_axe_and_keeps_no(app, page, live_server,
                                                                  portal):
    """Issue #18 (7): yes/no custom fields are labelled checkboxes (Read Only ones disabled),
    and saving the page unchanged keeps a no a no."""
    from widget_server.core.extensions import db
    from widget_server.customers import fields as field_service
    from widget_server.customers.models import Customer
    from widget_server.profiles.models import SelfServiceProfile
    from widget_server.tenancy.models import Merchant

    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        vip, paper = (field_service.create_definition(merchant, name=name, field_type="boolean",
                                                      required=False, choices=[]).id
                      for name in ("VIP", "Paper invoices"))
        customer = db.session.get(Customer, p.customer_id)
        customer.custom_fields = {str(vip): False, str(paper): True}
        db.session.get(SelfServiceProfile, p.profile_id).settings = {"customer": {
            "custom_field_parameters": {str(vip): "read_write", str(paper): "read_only"}}}
        db.session.commit()
    page.goto(f"{live_server}{p.standalone}/login")
    page.get_by_label("Username or email").fill(p.username)
    page.get_by_label("Password").fill(p.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Hello, Jane").wait_for()
    page.goto(f"{live_server}{p.standalone}/profile")
    assert page.get_by_label("VIP").is_checked() is False
    assert page.get_by_label("Paper invoices").is_disabled()
    assert _serious(page) == []
    page.get_by_role("button", name="Save my details").click()
    page.get_by_text("Your details are saved.").wait_for()
    assert page.get_by_label("VIP").is_checked() is False
    page.get_by_label("VIP").check()
    with page.expect_navigation():  # the first save's notice is still on the page
        page.get_by_role("button", name="Save my details").click()
    page.get_by_text("Your details are saved.").wait_for()
    with app.app_context():
        assert db.session.get(Customer, p.customer_id).custom_fields == {str(vip): True,
                                                                          str(paper): True}


# --- Issue #20-7: every widget page, both themes ------------------------------------------

# Signed-in GET pages not checked by axe, and why: not HTML.
NOT_HTML = {"payment_receipt_pdf", "invoice_pdf", "invoices_pdf", "cookie_check", "proposal_pdf",
            "issue_attachment", "credit_note_pdf"}  # downloads (#23, #24)
# Public pages checked signed out (an unknown token shows the "link expired" page).
PUBLIC_PAGES = {"login": "/login", "forgot": "/forgot", "enrol": "/enrol",
                "create_credentials": "/credentials/not-a-real-token-0000",
                "reset": "/reset/not-a-real-token-0000", "pay": "/pay/not-a-real-token-0000",
                "not_found": "/no-such-page", "cart": "/cart",  # the cart widget (#22)
                "cart_guest": "/cart/guest"}  # its guest checkout (#22 slice c)


def _widget_get_pages(app):
    """Every signed-in GET page of the standalone portal, from the URL map and the capability
    table: a new page is checked by axe the day it is added."""
    from widget_server.widget.capabilities import ROUTES

    pages = {}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("portal.") or "GET" not in rule.methods:
            continue
        name = rule.endpoint.partition(".")[2]
        if ROUTES[name].signed_in and name not in NOT_HTML:
            pages[name] = rule
    return pages


def _sign_in(page, live_server, p):
    page.goto(f"{live_server}{p.standalone}/login")
    page.get_by_label("Username or email").fill(p.username)
    page.get_by_label("Password").fill(p.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Hello, Jane").wait_for()


@pytest.mark.parametrize("theme", ["default", "classic"])
def test_every_widget_page_passes_axe(app, page, live_server, billed, theme):
    from tests.order_support import add_subscription
    from tests.payment_support import CARD, pay_form, set_payment
    from widget_server.core.extensions import db
    from widget_server.profiles.models import SelfServiceProfile

    set_payment(app, billed, {"edit_effective_date": True, "payment_amount": "any"})
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, billed.profile_id)
        profile.settings = {**profile.settings, "global": {"theme": theme, "show_issues": True},
                            "invoice": {"allow_new_invoice": True},
                            "customer": {"phone_number_required": True},
                            "cart": {"enable_shopping_cart": True,
                                     "enable_guest_checkout": True}}
        from widget_server.catalogue.models import Product

        db.session.add(Product(merchant_id=billed.merchant_id, sku="CART-1", name="Cart item",
                               unit_price_minor=1000, currency="USD", in_cart=True))
        db.session.commit()
    from tests.order_support import add_order, switch_orders_on

    switch_orders_on(app, billed)  # the Orders pages (#21), an order due with its agent
    add_order(app, billed)
    billed.client.post(f"{billed.base}/pay", data={  # a saved card and a payment to list
        **pay_form(billed), **CARD, "invoice": str(billed.invoice_ids[0]), "save_method": "y"})
    add_subscription(app, billed)  # a subscription to change (#21 item 6)
    from tests.proposal_support import add_proposal

    add_proposal(app, billed)  # an open proposal: Accept and Decline (#23), the section on
    from tests.issue_support import add_issue

    issue_id = add_issue(app, billed)  # the Issues pages (#23), an answered issue
    for name, path in PUBLIC_PAGES.items():
        page.goto(f"{live_server}{billed.standalone}{path}")
        page.locator("h1").first.wait_for()
        assert (name, _serious(page)) == (name, [])
    # the Pay page an invoice email's link opens, without signing in (#20-7: every page)
    from urllib.parse import urlsplit

    from widget_server.billing import issuing
    from widget_server.billing.models import Invoice
    from widget_server.tenancy.models import Merchant

    with app.app_context():
        merchant = db.session.get(Merchant, billed.merchant_id)
        merchant.config = {**(merchant.config or {}), "portal": {
            **(merchant.config or {}).get("portal", {}), "allow_guest_invoice_payment": True}}
        db.session.commit()
        link = issuing.pay_link(merchant, db.session.get(Invoice, billed.invoice_ids[1]))
    page.goto(f"{live_server}{urlsplit(link).path}")
    page.get_by_role("link", name="Pay it without signing in").click()  # past the sign-in
    page.get_by_role("button", name=re.compile("^Pay")).wait_for()
    assert ("guest_pay", _serious(page)) == ("guest_pay", [])
    page.context.clear_cookies()  # the link's "after sign-in" stays behind otherwise
    # the guest's code page, after the details (#22 slice c)
    page.goto(f"{live_server}{billed.standalone}/cart/guest")
    page.get_by_label("First name").fill("Gus")
    page.get_by_label("Last name").fill("Guest")
    page.get_by_label("Email address").fill("gus@example.test")
    page.get_by_role("button", name="Email me the code").click()
    page.locator("#guest-code-form").wait_for()
    assert ("cart_guest_code", _serious(page)) == ("cart_guest_code", [])
    _sign_in(page, live_server, billed)
    pages = _widget_get_pages(app)
    from widget_server.billing.models import Payment

    with app.app_context():  # the receipt of the payment just made
        paid = db.session.scalar(select(Payment.id).where(Payment.status == "succeeded"))
    values = {"merchant_slug": billed.slug, "invoice_id": billed.invoice_ids[1],
              "payment_id": paid, "order_id": billed.order_id,
              "proposal_id": billed.proposal_id, "issue_id": issue_id}
    adapter = app.url_map.bind("localhost")
    checked = set()
    for name, rule in sorted(pages.items()):
        url = adapter.build(rule.endpoint, {k: values[k] for k in rule.arguments})
        response = page.goto(f"{live_server}{url}")
        page.locator("h1").first.wait_for()
        assert (name, response.status) == (name, 200)
        assert (name, _serious(page)) == (name, [])
        checked.add(name)
    assert {"overview", "invoices", "invoice_detail", "new_invoice", "pay_invoices",
            "payment_history", "payment_methods", "profile", "change_password", "orders",
            "order_detail", "new_order", "cancel_order", "order_change", "proposals",
            "proposal_detail", "issues_list", "new_issue", "issue_detail"} <= checked
    # New Order's review step (a POST's answer) and a choice left out
    page.goto(f"{live_server}{billed.standalone}/orders/new")
    page.get_by_role("button", name="Review").click()
    page.get_by_role("heading", name="Review your order").wait_for()
    assert _serious(page) == []
    # a proposal's Accept refused for a name that is not the customer's (#23)
    page.goto(f"{live_server}{billed.standalone}/proposals/{billed.proposal_id}")
    page.get_by_label("Your full name").fill("Somebody Else")
    page.get_by_role("button", name="Accept proposal").click()
    page.locator("#name-error").wait_for()
    assert _serious(page) == []
    # the states a customer meets: a form with errors, a refused page, the pay-all choice
    page.goto(f"{live_server}{billed.standalone}/profile")
    page.get_by_label("Phone").fill("")
    page.get_by_role("button", name="Save my details").click()
    page.get_by_text("Enter your phone number.").wait_for()
    assert _serious(page) == []
    set_payment(app, billed, {"invoice_choice": "all"})
    page.goto(f"{live_server}{billed.standalone}/pay")
    page.get_by_text("All outstanding invoices are paid together").wait_for()
    assert _serious(page) == []
    page.set_viewport_size({"width": 320, "height": 700})  # the legend wraps: inside the box
    inset = page.evaluate("() => { const f = document.querySelector('fieldset');"
                          " return f.querySelector('legend').getBoundingClientRect().top"
                          " - f.getBoundingClientRect().top; }")
    assert inset >= 1
    page.set_viewport_size({"width": 1280, "height": 720})
    set_payment(app, billed, {"allow_payments": False})
    page.goto(f"{live_server}{billed.standalone}/pay")
    page.get_by_role("heading", name="Not available here").wait_for()
    assert _serious(page) == []


def test_focus_moves_to_the_heading_after_each_page_change(page, live_server, portal):
    """Issue #20-7: after a page change inside the widget the keyboard and the screen reader
    start at the new page's heading; a skip link leads past the navigation."""
    p = portal()
    page.goto(f"{live_server}{p.standalone}/login")
    assert page.evaluate("document.activeElement.tagName") == "BODY"  # first page: no jump
    page.get_by_label("Username or email").fill(p.username)
    page.get_by_label("Password").fill(p.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Hello, Jane").wait_for()
    page.wait_for_function("() => document.activeElement.tagName === 'H1'")
    assert page.evaluate("document.activeElement.textContent") == "Hello, Jane"
    page.get_by_role("link", name="Profile").click()
    page.wait_for_function("() => document.activeElement.tagName === 'H1'"
                           " && document.activeElement.textContent === 'Your details'")
    # a form sent back with errors: the first field to fix, not the heading
    page.get_by_label("First name").fill("")
    with page.expect_navigation():  # the field had the focus before: wait for the new page
        page.get_by_role("button", name="Save my details").click()
    page.locator("#first_name-error").wait_for()
    page.wait_for_function("() => document.activeElement.id === 'first_name'")
    assert page.evaluate("document.activeElement.getAttribute('aria-describedby')") == \
        "first_name-error"
    # the skip link is the first stop and leads to the content
    page.goto(f"{live_server}{p.standalone}/invoices")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize("theme", ["default", "classic"])
def test_an_invoice_with_tax_passes_axe(app, page, live_server, billed, theme):
    """Issue #21: the Tax rate column and the net and tax-per-rate rows under the lines."""
    from datetime import date

    from widget_server.billing.invoices import build_invoice
    from widget_server.catalogue.models import Product
    from widget_server.core.extensions import db
    from widget_server.customers.models import Customer
    from widget_server.profiles.models import SelfServiceProfile
    from widget_server.tenancy.models import Merchant

    with app.app_context():
        merchant = db.session.get(Merchant, billed.merchant_id)
        products = [Product(merchant_id=merchant.id, sku=f"T{rate}", name=f"Taxed {rate}",
                            unit_price_minor=1000, currency=merchant.currency, tax_rate_bp=rate)
                    for rate in (700, 1900)]
        db.session.add_all(products)
        db.session.flush()
        invoice = build_invoice(merchant, db.session.get(Customer, billed.customer_id),
                                [(products[0], 1), (products[1], 2)], number="TAXED-1",
                                issue_date=date.today(), due_date=date.today())
        db.session.get(SelfServiceProfile, billed.profile_id).settings = {
            "global": {"theme": theme}}
        db.session.commit()
        invoice_id = invoice.id
    page.goto(f"{live_server}{billed.standalone}/login")
    page.get_by_label("Username or email").fill(billed.username)
    page.get_by_label("Password").fill(billed.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Hello, Jane").wait_for()
    page.goto(f"{live_server}{billed.standalone}/invoices/{invoice_id}")
    page.get_by_role("rowheader", name="Tax 19 %").wait_for()
    assert _serious(page) == []


def test_the_single_sign_on_only_sign_in_page_passes_axe_and_fits_a_phone(app, page,
                                                                         live_server, portal):
    """#25 item 6: password sign-in off, a spent sign-in link: the sign-in page's note and the
    link's message pass axe and fit 320 px."""
    from widget_server.core.extensions import db
    from widget_server.profiles.models import SelfServiceProfile

    p = portal()
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, p.profile_id)
        profile.settings = {"global": {"password_sign_in": False}}
        db.session.commit()
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"{live_server}{p.base}/?session=pst_spent")
    page.get_by_text("This sign-in link can no longer be used.").wait_for()
    page.locator("#sso-only").wait_for()
    assert _serious(page) == []
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
