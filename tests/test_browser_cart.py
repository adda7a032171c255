"""The cart widget in real Chromium (issue #22 slice a): `data-widget="cart"` through the loader
on a host page at 127.0.0.1 (the widget on localhost, cross-site), adding a product shows the
total and the host page hears `cart-updated`; the cart survives a reload; the cart's pages pass
axe in both themes, and the switched-off page too."""
import json

import pytest
from axe_playwright_python.sync_playwright import Axe

from widget_server.catalogue.models import Product
from widget_server.core.extensions import db
from widget_server.profiles.models import SelfServiceProfile
from widget_server.tenancy.models import Merchant

pytestmark = pytest.mark.browser

HOST_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>Shop</h1>
<div id="cart-box"></div><script src="{widget}/embed/loader.js" data-widget="cart"
  data-merchant="{merchant}" data-profile="standard" data-target="#cart-box" async></script>
<ol id="log"></ol>
<script>
  var box = document.getElementById("cart-box");
  ["loaded", "cart-updated"].forEach(function (t) {{
    box.addEventListener("myaccount:" + t, function (e) {{
      var li = document.createElement("li");
      li.textContent = t + " " + JSON.stringify(e.detail);
      document.getElementById("log").appendChild(li);
    }});
  }});
</script></body></html>"""

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                              "wcag22aa"]}}


def _serious(page):
    results = Axe().run(page, options=WCAG)
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def _settings(app, p, **tabs):
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, p.profile_id)
        settings = dict(profile.settings or {})
        for tab, values in tabs.items():
            settings[tab] = {**settings.get(tab, {}), **values}
        profile.settings = settings
        db.session.commit()


def _stock(app, p):
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        merchant.config = {**(merchant.config or {}),
                           "business": {"prices_include_tax": False}}
        mug = Product(merchant_id=merchant.id, sku="MUG", name="Enamel mug",
                      description="Keeps coffee warm.", unit_price_minor=1000, currency="USD",
                      tax_rate_bp=1900, in_cart=True)
        plan = Product(merchant_id=merchant.id, sku="PLAN",
                       name="A rather long subscription name for the monthly coffee plan",
                       unit_price_minor=500, currency="USD", tax_rate_bp=700,
                       interval="month", in_cart=True)
        db.session.add_all([mug, plan])
        db.session.commit()
        p.mug, p.plan = mug.id, plan.id
    _settings(app, p, cart={"enable_shopping_cart": True})


def test_the_cart_widget_through_the_loader(app, live_server, portal, page, host_site):
    p = portal(config={"embedding": {"allowed_origins": [host_site.origin]}})
    _stock(app, p)
    url = host_site.page("/cart", HOST_PAGE.format(widget=live_server, merchant=p.slug))
    page.goto(url)
    frame = page.frame_locator("#cart-box iframe")
    frame.get_by_role("heading", name="Shopping cart").wait_for()
    assert page.locator("#cart-box iframe").get_attribute("src").startswith(
        f"{live_server}/w/{p.slug}/standard/cart?embed=1")
    assert page.locator("#cart-box iframe").get_attribute("title") == "Shopping cart"
    frame.get_by_label("Quantity of Enamel mug").fill("2")
    frame.get_by_role("button", name="Add Enamel mug to the cart").click()
    frame.locator("#cart-total").wait_for()
    assert frame.locator("#cart-total").inner_text() == "$23.80"
    # the reader is left at the cart and its new total, not at the top of the product list
    frame.locator("#cart-heading:focus").wait_for()
    page.wait_for_function("[...document.querySelectorAll('#log li')]"
                           ".some(li => li.textContent.startsWith('cart-updated'))")
    [event] = [json.loads(t[len("cart-updated "):])
               for t in page.locator("#log li").all_inner_texts()
               if t.startswith("cart-updated")]
    assert event == {"items": 2, "total": "23.80", "total_minor": 2380, "currency": "USD"}
    # the frame follows its content (sized like the account widget)
    height = page.locator("#cart-box iframe").evaluate("f => f.getBoundingClientRect().height")
    assert height > 300
    # the cart lives on the server, keyed to the (partitioned) widget session: a reload keeps it
    page.reload()
    frame = page.frame_locator("#cart-box iframe")
    frame.locator("#cart-total").wait_for()
    assert frame.locator("#cart-total").inner_text() == "$23.80"


@pytest.mark.parametrize("theme", ["default", "classic"])
def test_the_cart_pages_pass_axe(app, live_server, portal, page, theme):
    p = portal()
    _stock(app, p)
    _settings(app, p, **{"global": {"theme": theme}})
    page.goto(f"{live_server}{p.standalone}/cart")
    page.get_by_text("Your cart is empty.").wait_for()
    assert _serious(page) == []
    page.get_by_role("button", name="Add Enamel mug to the cart").click()
    page.locator("#cart-total").wait_for()
    assert _serious(page) == []
    page.get_by_label("Quantity of Enamel mug", exact=True).last.fill("0")  # an error shown
    page.get_by_role("button", name="Update the quantity of Enamel mug").click()
    page.get_by_text("Quantities are whole numbers from 1 to 10,000.").wait_for()
    assert _serious(page) == []
    _settings(app, p, cart={"enable_shopping_cart": False})
    page.goto(f"{live_server}{p.standalone}/cart")
    page.get_by_role("heading", name="The shopping cart is not offered here").wait_for()
    assert _serious(page) == []


CHECKOUT_HOST = HOST_PAGE.replace('["loaded", "cart-updated"]',
                                  '["loaded", "cart-updated", "checkout-succeeded", '
                                  '"checkout-failed"]')


def _logged(page, kind: str) -> list[dict]:
    page.wait_for_function(f"[...document.querySelectorAll('#log li')]"
                           f".some(li => li.textContent.startsWith('{kind} '))")
    return [json.loads(t[len(kind) + 1:]) for t in page.locator("#log li").all_inner_texts()
            if t.startswith(kind + " ")]


def test_checking_out_the_cart_through_the_loader(app, live_server, portal, page, host_site):
    """#22 slice b: Check out → sign in inside the frame → back to the checkout; a declined
    card says why (checkout-failed), a good one thanks with the order (checkout-succeeded)."""
    p = portal(config={"embedding": {"allowed_origins": [host_site.origin]}})
    _stock(app, p)
    url = host_site.page("/cart", CHECKOUT_HOST.format(widget=live_server, merchant=p.slug))
    page.goto(url)
    frame = page.frame_locator("#cart-box iframe")
    frame.get_by_role("button", name="Add Enamel mug to the cart").click()
    frame.locator("#cart-total").wait_for()
    frame.get_by_role("link", name="Check out").click()
    frame.get_by_label("Username or email").fill(p.username)
    frame.get_by_label("Password").fill(p.password)
    frame.get_by_role("button", name="Sign in").click()
    frame.locator("#checkout-total").wait_for()
    assert frame.locator("#checkout-total").inner_text() == "$11.90"
    frame.get_by_label("Card number").fill("4000 0000 0000 0002")
    frame.get_by_label("Expiry (MM/YY)").fill("12/39")
    frame.get_by_label("Security code").fill("123")
    frame.get_by_role("button", name="Pay $11.90").click()
    frame.locator("#checkout-error").wait_for()
    [failed] = _logged(page, "checkout-failed")
    assert failed["amount_minor"] == 1190 and failed["order"] == "ORD-00001" and failed["reason"]
    frame.get_by_label("Card number").fill("4242 4242 4242 4242")
    frame.get_by_label("Expiry (MM/YY)").fill("12/39")
    frame.get_by_label("Security code").fill("123")
    frame.get_by_role("button", name="Pay $11.90").click()
    frame.locator("#checkout-thanks").wait_for()
    assert "ORD-00001" in frame.locator("#checkout-thanks").inner_text()
    [done] = _logged(page, "checkout-succeeded")
    assert done == {"order": "ORD-00001", "amount": "11.90", "amount_minor": 1190,
                    "currency": "USD"}


@pytest.mark.parametrize("theme", ["default", "classic"])
def test_the_checkout_pages_pass_axe(app, live_server, portal, page, theme):
    p = portal()
    _stock(app, p)
    _settings(app, p, **{"global": {"theme": theme}})
    page.goto(f"{live_server}{p.standalone}/login")
    page.get_by_label("Username or email").fill(p.username)
    page.get_by_label("Password").fill(p.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()
    page.goto(f"{live_server}{p.standalone}/cart")
    page.get_by_role("button", name="Add Enamel mug to the cart").click()
    page.get_by_role("link", name="Check out").click()
    page.locator("#checkout-total").wait_for()
    assert _serious(page) == []
    page.get_by_label("Card number").fill("4000 0000 0000 0002")
    page.get_by_label("Expiry (MM/YY)").fill("12/39")
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Pay $11.90").click()
    page.locator("#checkout-error").wait_for()  # a declined card, said on top
    assert _serious(page) == []
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry (MM/YY)").fill("12/39")
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Pay $11.90").click()
    page.locator("#checkout-thanks").wait_for()
    assert _serious(page) == []
