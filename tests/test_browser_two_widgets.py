"""Two widgets on one page (E-7, issue #22 slice d) in real Chromium: the cart and the account
widget, each through its own loader snippet, on a host page at 127.0.0.1 (the widget on
localhost, cross-site). Each iframe is its own, sized to its own content, and hands its events to
its own container; the two share the customer's (partitioned) widget session, so signing in
inside the account widget is seen by the cart. Buttons inside the frames are pressed with Enter:
a click aims at a place, which a frame's resize can move (a sign-in click was lost once in CI)."""
import pytest
from sqlalchemy import select

from tests.browser import frames_settled
from widget_server.catalogue.models import Product
from widget_server.commerce.models import Cart
from widget_server.core.extensions import db
from widget_server.profiles.models import SelfServiceProfile

pytestmark = pytest.mark.browser

HOST_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>Shop</h1>
<div id="cart-box" data-box></div><script src="{widget}/embed/loader.js" data-widget="cart"
  data-merchant="{merchant}" data-profile="standard" data-target="#cart-box" async></script>
<div id="account-box" data-box></div><script src="{widget}/embed/loader.js"
  data-merchant="{merchant}" data-profile="standard" data-target="#account-box" async></script>
<ol id="log"></ol>
<script>
  document.querySelectorAll("[data-box]").forEach(function (box) {{
    ["loaded", "resized", "logged-in", "logged-out", "cart-updated"].forEach(function (t) {{
      box.addEventListener("myaccount:" + t, function (e) {{
        if (e.target !== box) return;  // the box's own widget only
        var li = document.createElement("li");
        li.textContent = box.id + " " + t + " " + JSON.stringify(e.detail);
        document.getElementById("log").appendChild(li);
      }});
    }});
  }});
</script></body></html>"""


def _log(page):
    return page.locator("#log li").all_inner_texts()


def _heard(page, prefix):
    page.wait_for_function("p => [...document.querySelectorAll('#log li')]"
                           ".some(li => li.textContent.startsWith(p))", arg=prefix)


def _cart_customer(app, merchant_id):
    with app.app_context():
        carts = db.session.scalars(select(Cart).where(Cart.merchant_id == merchant_id)).all()
        return [c.customer_id for c in carts]


def test_cart_and_account_widgets_on_one_page_share_the_session(app, live_server, portal, page,
                                                                 host_site):
    p = portal(config={"embedding": {"allowed_origins": [host_site.origin]}})
    with app.app_context():
        db.session.add(Product(merchant_id=p.merchant_id, sku="MUG", name="Enamel mug",
                               unit_price_minor=1000, currency="USD", in_cart=True))
        profile = db.session.get(SelfServiceProfile, p.profile_id)
        profile.settings = {**(profile.settings or {}), "cart": {"enable_shopping_cart": True}}
        db.session.commit()
    page.goto(host_site.page("/two", HOST_PAGE.format(widget=live_server, merchant=p.slug)))
    cart = page.frame_locator("#cart-box iframe")
    account = page.frame_locator("#account-box iframe")
    cart.get_by_role("heading", name="Shopping cart").wait_for()
    account.get_by_role("heading", name="Sign in").wait_for()
    # two iframes, one in each container, each with its own page
    assert page.locator("iframe").count() == 2
    assert "/cart?embed=1" in page.locator("#cart-box iframe").get_attribute("src")
    assert "/cart" not in page.locator("#account-box iframe").get_attribute("src")

    # the cart: an item added, cart-updated heard on the cart's box only
    cart.get_by_role("button", name="Add Enamel mug to the cart").press("Enter")
    cart.locator("#cart-total").wait_for()
    _heard(page, "cart-box cart-updated")
    assert _cart_customer(app, p.merchant_id) == [None]  # a visitor's cart

    # the account: signed in, logged-in heard on the account's box only (once the cart, above
    # it, has grown to its new content and stopped moving the account's frame)
    frames_settled(page, "#cart-box iframe")
    account.get_by_label("Username or email").fill(p.username)
    account.get_by_label("Password").fill(p.password)
    account.get_by_role("button", name="Sign in").press("Enter")
    account.get_by_role("heading", name="Hello, Jane").wait_for()
    _heard(page, "account-box logged-in")
    log = _log(page)
    assert f'account-box logged-in {{"customer_id":{p.customer_id}}}' in log
    assert not any(line.startswith(("cart-box logged-in", "account-box cart-updated"))
                   for line in log)
    # the cart survives the sign-in next door and now records the customer
    assert _cart_customer(app, p.merchant_id) == [p.customer_id]
    page.wait_for_timeout(300)
    for box, frame in (("cart-box", cart), ("account-box", account)):  # each sized on its own
        outer = page.locator(f"#{box} iframe").evaluate("f => f.getBoundingClientRect().height")
        inner = frame.locator("#widget").evaluate("w => w.getBoundingClientRect().height")
        assert abs(outer - inner) <= 3, (box, outer, inner)

    # the cart's next load: the same cart (the shared partitioned session), still the customer's
    page.locator("#cart-box iframe").evaluate("f => { f.src = f.src; }")
    cart.locator("#cart-total").wait_for()
    assert cart.locator("#cart-total").inner_text() == "$10.00"
    cart.get_by_label("Quantity of Enamel mug", exact=True).last.fill("2")
    cart.get_by_role("button", name="Update the quantity of Enamel mug").press("Enter")
    cart.get_by_text("$20.00").first.wait_for()
    page.wait_for_function("[...document.querySelectorAll('#log li')].filter(li => "
                           "li.textContent.startsWith('cart-box cart-updated')).length >= 2")
    assert _cart_customer(app, p.merchant_id) == [p.customer_id]
    assert not any(line.startswith("account-box cart-updated") for line in _log(page))
