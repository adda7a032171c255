"""Phones (issue #20): every widget page, in both themes, fits the loader's iframe from a 320 px
phone to a 1280 px desktop. The iframe never scrolls sideways, so a page wider than its frame
hides what lies beyond the edge (the Classic theme's tabs did at 360 px)."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.browser import BROWSER_TIMEOUT_MS
from tests.issue_support import add_issue
from tests.order_support import add_order, add_subscription, switch_orders_on
from tests.payment_support import CARD, add_money_back, pay_form, set_payment
from tests.proposal_support import add_proposal
from widget_server.billing import issuing
from widget_server.billing.invoices import build_invoice
from widget_server.billing.models import Invoice, Payment
from widget_server.catalogue.models import Product
from widget_server.core.extensions import db
from widget_server.customers.models import Customer
from widget_server.profiles.models import SelfServiceProfile
from widget_server.tenancy.models import Merchant
from widget_server.widget import STANDALONE
from widget_server.widget.capabilities import ROUTES

pytestmark = pytest.mark.browser

WIDTHS = (320, 360, 768, 1280)
THEMES = ("default", "classic")
SIGNED_OUT = ("login", "forgot", "enrol", "guest_pay", "cart", "cart_guest", "cart_guest_code")
# GET routes that are not a page of their own here: files, JSON, redirects (index, an
# invoice's Pay link), and pages reached only with a token from an email or the admin's preview
NOT_PAGES = {"invoice_pdf", "invoices_pdf", "payment_receipt_pdf", "proposal_pdf", "cookie_check",
             "credit_note_pdf",
             "index", "pay",
             "create_credentials", "reset", "preview_page",
             "not_found",  # the widget's 404 page for unknown addresses: axe and its own tests
             # the guest's checkout (#22 slice c) is cart_checkout's template, measured signed
             # in; it is reached only with a code from an email (tests/test_guest_checkout.py)
             "cart_guest_checkout",
             "issue_attachment"}  # a download (#23)


def _pages(app, billed) -> list[str]:
    """Every GET page of the standalone portal, from the URL map: a new page is measured too
    (or must say here why not)."""
    paths = []
    for rule in app.url_map.iter_rules():
        blueprint, _, name = rule.endpoint.partition(".")
        if blueprint != STANDALONE or "GET" not in rule.methods or name in NOT_PAGES:
            continue
        assert ROUTES[name].signed_in or name in SIGNED_OUT, f"measure {name} too"
        values = {"merchant_slug": billed.slug}
        if "invoice_id" in rule.arguments:
            values["invoice_id"] = billed.invoice_ids[0]
        if name == "guest_pay":
            values["token"] = billed.token
        if "payment_id" in rule.arguments:
            values["payment_id"] = billed.paid_id  # the receipt of a succeeded payment
        if "issue_id" in rule.arguments:
            values["issue_id"] = billed.issue_id  # an answered issue (#23)
        if "order_id" in rule.arguments:
            values["order_id"] = billed.order_id  # an active subscription
        if "proposal_id" in rule.arguments:
            values["proposal_id"] = billed.proposal_id  # sent, open: Accept and Decline (#23)
        assert rule.arguments <= values.keys(), f"give {name} its arguments"
        paths.append((name, app.url_map.bind("localhost").build(rule.endpoint, values)))
    return sorted(paths, key=lambda np: np[0] not in SIGNED_OUT)  # signed-out ones first


def _history(app, billed):
    """Invoices, payments (succeeded, failed, scheduled) and a saved card to list; a guest's
    Pay link to the invoice still open."""
    set_payment(app, billed, {"edit_effective_date": True})
    with app.app_context():
        merchant = db.session.get(Merchant, billed.merchant_id)
        merchant.config = {**(merchant.config or {}),
                           "portal": {"allow_guest_invoice_payment": True}}
        billed.token = issuing.pay_token(db.session.get(Invoice, billed.invoice_ids[1]))
        db.session.commit()
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, billed.profile_id)
        profile.settings = {**profile.settings, "invoice": {"allow_new_invoice": True}}
        db.session.commit()
    add_subscription(app, billed)  # its Change page (#21 item 6)
    one, two = (str(i) for i in billed.invoice_ids)
    for extra in ({**CARD, "invoice": one, "save_method": "y"},
                  {**CARD, "invoice": two, "card_number": "4000 0000 0000 0002"},
                  {**CARD, "invoice": two,
                   "payment_date": (date.today() + timedelta(days=3)).isoformat()}):
        billed.client.post(f"{billed.base}/pay", data={**pay_form(billed), **extra})
    with app.app_context():
        billed.paid_id = db.session.scalar(select(Payment.id).where(
            Payment.status == "succeeded"))
    with app.app_context():  # an invoice with tax at two rates: its page has a Tax rate column
        merchant = db.session.get(Merchant, billed.merchant_id)
        products = [Product(merchant_id=merchant.id, sku=f"TAX{rate}", unit_price_minor=123456,
                            name=f"A rather long product name taxed at {rate // 100} percent",
                            currency=merchant.currency, tax_rate_bp=rate) for rate in (700, 1900)]
        db.session.add_all(products)
        db.session.flush()
        taxed = build_invoice(merchant, db.session.get(Customer, billed.customer_id),
                              [(products[0], 3), (products[1], 12)], number="TAXED-1",
                              issue_date=date.today(), due_date=date.today())
        db.session.commit()
        billed.taxed_id = taxed.id
    switch_orders_on(app, billed)
    add_order(app, billed)
    add_proposal(app, billed, note="A rather long note " * 12)  # Show Proposals on (#23)
    with app.app_context():  # the shopping cart widget (#22): a product with a long name
        profile = db.session.get(SelfServiceProfile, billed.profile_id)
        profile.settings = {**profile.settings, "cart": {"enable_shopping_cart": True,
                                                         "enable_guest_checkout": True}}
        db.session.add(Product(merchant_id=billed.merchant_id, sku="CART-1", in_cart=True,
                               name="A rather long product name offered in the shopping cart",
                               unit_price_minor=123456, currency="USD", tax_rate_bp=1900,
                               interval="month", interval_count=3))
        db.session.commit()
    billed.issue_id = add_issue(app, billed)  # service issues (#23)
    add_money_back(app, billed)  # a refund and a credit note in the history (#24)
    history = billed.client.get(f"{billed.base}/payments").get_data(as_text=True)
    assert all(s in history for s in ("badge-succeeded", "badge-failed", "badge-scheduled",
                                      "REF-00001", "CN-00001"))
    assert "Visa" in billed.client.get(f"{billed.base}/methods").get_data(as_text=True)


def _set_theme(app, billed, theme):
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, billed.profile_id)
        profile.settings = {**profile.settings,  # the Global tab's other switches kept
                            "global": {**profile.settings.get("global", {}), "theme": theme,
                                       "show_issues": True}}
        db.session.commit()


def test_every_widget_page_fits_every_width_in_both_themes(app, chromium, live_server, billed):
    _history(app, billed)
    pages = _pages(app, billed)
    pages.append(("invoice_detail with tax", app.url_map.bind("localhost").build(
        f"{STANDALONE}.invoice_detail", {"merchant_slug": billed.slug,
                                         "invoice_id": billed.taxed_id})))
    assert {n for n, _ in pages} >= {"overview", "invoices", "invoice_detail", "pay_invoices",
                                     "payment_history", "payment_methods", "profile",
                                     "new_invoice", "change_password", "order_change",
                                     "orders", "order_detail", "new_order", "cancel_order",
                                     "proposals", "proposal_detail", "issues_list", "new_issue",
                                     "issue_detail",
                                     *SIGNED_OUT}
    overflows = []
    for theme in THEMES:
        _set_theme(app, billed, theme)
        context = chromium.new_context()  # one per theme, signed in once
        context.set_default_timeout(BROWSER_TIMEOUT_MS)
        page = context.new_page()
        signed_in = False
        for name, path in pages:
            if name not in SIGNED_OUT and not signed_in:
                page.goto(f"{live_server}{billed.standalone}/login")
                page.get_by_label("Username or email").fill(billed.username)
                page.get_by_label("Password").fill(billed.password)
                page.get_by_role("button", name="Sign in").click()
                # to the overview, or to the guest's Pay link opened before
                page.get_by_role("button", name="Sign out").wait_for()
                signed_in = True
            page.set_viewport_size({"width": WIDTHS[-1], "height": 800})
            if name == "cart_guest_code":  # asked for from the guest's details (#22 slice c)
                page.goto(f"{live_server}{billed.standalone}/cart/guest")
                page.get_by_label("First name").fill("Gus")
                page.get_by_label("Last name").fill("Guest")
                page.get_by_label("Email address").fill(f"gus-{theme}@example.test")
                page.get_by_role("button", name="Email me the code").click()
                page.locator("#guest-code-form").wait_for()
            answer = page.goto(f"{live_server}{path}")
            assert answer.status == 200 and f"theme-{theme}" in page.get_attribute(
                "body", "class"), (theme, path, answer.status)
            if name == "cart":  # with a line in the cart, and its totals
                page.locator("#cart-products button").first.click()
                page.locator("#cart-total").wait_for()
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 800})
                overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
                if overflow:
                    overflows.append((theme, width, name, overflow))
        context.close()
    assert overflows == []
