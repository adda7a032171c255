"""The cart widget's pages (issue #22 slice a, SPEC W-8, P-6): the offered products with price,
tax and period; add, change, remove with the cart-updated event; the same session keeps the
same cart across reloads; crafted requests (foreign product, crafted price, bad quantity,
missing CSRF) refused; the switch off answers the cart's own page and refuses every POST; the
stylesheet after the theme's CSS and its origin in style-src on the cart's pages only."""
import json
import re

import pytest

from tests.conftest import csrf_from, widget_login
from widget_server.catalogue.models import Product
from widget_server.core.domain import DomainError
from widget_server.core.extensions import db
from widget_server.profiles.models import SelfServiceProfile
from widget_server.tenancy.models import Merchant


def set_cart(app, p, **values):
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, p.profile_id)
        settings = dict(profile.settings or {})
        settings["cart"] = {**settings.get("cart", {}), **values}
        profile.settings = settings
        db.session.commit()


@pytest.fixture
def shop(app, portal, make_merchant):
    """A merchant whose cart offers a mug (19 % tax added) and a monthly plan; a hidden and an
    archived product; another merchant's product; the cart switched on. `p.client` is a
    visitor (not signed in)."""
    p = portal()
    other_id, _ = make_merchant("other")
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        merchant.config = {"business": {"prices_include_tax": False}}

        def product(merchant_id, sku, price, rate=0, **more):
            row = Product(merchant_id=merchant_id, sku=sku, name=sku.title(),
                          unit_price_minor=price, currency="USD", tax_rate_bp=rate, **more)
            db.session.add(row)
            db.session.flush()
            return row.id

        p.mug = product(p.merchant_id, "mug", 1000, 1900, in_cart=True)
        p.plan = product(p.merchant_id, "plan", 500, 700, in_cart=True, interval="month")
        p.hidden = product(p.merchant_id, "hidden", 100)
        p.archived = product(p.merchant_id, "archived", 100, in_cart=True, active=False)
        p.foreign = product(other_id, "foreign", 100, in_cart=True)
        db.session.commit()
    set_cart(app, p, enable_shopping_cart=True)
    p.client = app.test_client()
    p.cart = f"{p.base}/cart"
    return p


def _event(html: str) -> tuple[str | None, dict]:
    kind = re.search(r'data-event="([^"]+)"', html)
    detail = re.search(r'data-event-detail="([^"]*)"', html)
    raw = detail.group(1).replace("&#34;", '"').replace("&quot;", '"') if detail else "{}"
    return (kind.group(1) if kind else None), json.loads(raw)


def _post(p, path, **data):
    csrf = csrf_from(p.client.get(p.cart).get_data(as_text=True))
    return p.client.post(f"{p.cart}{path}", data={"csrf_token": csrf, **data})


def test_the_cart_lists_the_offered_products(shop):
    page = shop.client.get(f"{shop.cart}?embed=1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Mug" in html and "Plan" in html and "$10.00" in html and "every month" in html
    assert "plus 19 % tax" in html and "plus 7 % tax" in html
    assert "Hidden" not in html and "Archived" not in html and "Foreign" not in html
    assert "Your cart is empty." in html
    assert 'class="widget-nav"' not in html  # no account navigation


def test_add_change_remove_and_the_event(shop):
    answer = _post(shop, "/add", product=str(shop.mug), quantity="2")
    assert answer.status_code == 302
    html = shop.client.get(shop.cart).get_data(as_text=True)
    assert _event(html) == ("cart-updated", {"items": 2, "total": "23.80",
                                             "total_minor": 2380, "currency": "USD"})
    assert 'id="cart-total">$23.80<' in html and 'id="cart-tax">$3.80<' in html
    _post(shop, "/add", product=str(shop.plan), quantity="1")
    html = shop.client.get(shop.cart).get_data(as_text=True)
    assert _event(html)[1]["total_minor"] == 2380 + 535
    assert "Then $5.35 every month, until you cancel." in html
    _post(shop, "/update", product=str(shop.mug), quantity="1")
    html = shop.client.get(shop.cart).get_data(as_text=True)
    assert _event(html)[1] == {"items": 2, "total": "17.25", "total_minor": 1725,
                               "currency": "USD"}
    _post(shop, "/remove", product=str(shop.plan))
    html = shop.client.get(shop.cart).get_data(as_text=True)
    assert _event(html)[1]["total_minor"] == 1190
    # the event is told once; a reload keeps the cart (the same session, the same cart)
    again = shop.client.get(shop.cart).get_data(as_text=True)
    assert _event(again)[0] is None and 'id="cart-total">$11.90<' in again
    # another visitor (another session) has a cart of their own
    other = shop.client.application.test_client()
    assert "Your cart is empty." in other.get(shop.cart).get_data(as_text=True)


def test_prices_come_from_the_server(shop):
    _post(shop, "/add", product=str(shop.mug), quantity="1", price="0.01",
          unit_price_minor="1", amount_minor="1", total="0")
    html = shop.client.get(shop.cart).get_data(as_text=True)
    assert 'id="cart-total">$11.90<' in html


@pytest.mark.parametrize("which", ["foreign", "hidden", "archived"])
def test_products_not_offered_are_refused(shop, which):
    answer = _post(shop, "/add", product=str(getattr(shop, which)), quantity="1")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "This product is not offered in the cart." in html and 'id="cart-error"' in html
    assert "Your cart is empty." in html


@pytest.mark.parametrize("quantity", ["0", "-1", "10001", "abc", "1.5", "9" * 30])
def test_bad_quantities_are_refused_next_to_the_product(shop, quantity):
    answer = _post(shop, "/add", product=str(shop.mug), quantity=quantity)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert f'id="add-quantity-{shop.mug}-error"' in html
    assert "Quantities are whole numbers from 1 to 10,000." in html


def test_without_csrf_nothing_changes(shop):
    answer = shop.client.post(f"{shop.cart}/add", data={"product": str(shop.mug)})
    assert answer.status_code == 400
    assert "Your cart is empty." in shop.client.get(shop.cart).get_data(as_text=True)


def test_a_signed_in_customer_keeps_the_cart_on_their_session(app, shop):
    widget_login(shop.client, shop.base, shop.username, shop.password)
    _post(shop, "/add", product=str(shop.mug), quantity="1")
    with app.app_context():
        from widget_server.commerce.models import Cart

        [cart] = db.session.query(Cart).all()
        assert cart.customer_id == shop.customer_id and cart.merchant_id == shop.merchant_id


def test_switched_off_the_cart_says_so_and_refuses_changes(app, shop):
    csrf = csrf_from(shop.client.get(shop.cart).get_data(as_text=True))
    set_cart(app, shop, enable_shopping_cart=False)
    page = shop.client.get(f"{shop.cart}?embed=1")
    html = page.get_data(as_text=True)
    assert page.status_code == 403
    assert "The shopping cart is not offered here" in html and "Page not found" not in html
    assert "frame-ancestors" in page.headers["Content-Security-Policy"]
    for path in ("/add", "/update", "/remove"):
        answer = shop.client.post(f"{shop.cart}{path}", data={
            "csrf_token": csrf, "product": str(shop.mug), "quantity": "1"})
        assert answer.status_code == 403, path
    with app.app_context():
        from widget_server.commerce.models import Cart

        assert db.session.query(Cart).count() == 0
    # the account's own pages are not affected
    assert shop.client.get(f"{shop.base}/login").status_code == 200


def test_the_loader_builds_the_cart_address(client):
    loader = client.get("/embed/loader.js").get_data(as_text=True)
    assert 'd.widget === "cart" ? "cart"' in loader and "cart-updated" in loader


# The Shopping Cart Stylesheet URL (P-6)

def _csp(response) -> dict[str, str]:
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
            for part in (d.strip() for d in response.headers["Content-Security-Policy"]
                         .split(";")) if part}


def test_the_stylesheet_loads_after_the_theme_and_only_its_origin_is_allowed(app, shop):
    url = "https://css.example.com/shop/cart.css?v=2"
    set_cart(app, shop, cart_stylesheet_url=url)
    page = shop.client.get(shop.cart)
    html = page.get_data(as_text=True)
    theme_at = html.index("widget.css")
    assert html.index(f'href="{url.replace("&", "&amp;")}"') > theme_at
    csp = _csp(page)
    assert "https://css.example.com" in csp["style-src"].split()
    assert "css.example.com/shop" not in csp["style-src"]  # the origin, not the path
    for directive, value in csp.items():
        if directive != "style-src":
            assert "css.example.com" not in value, directive
    # the account's pages neither load it nor allow it
    for path in ("/login", "/forgot"):
        other = shop.client.get(f"{shop.base}{path}")
        assert "css.example.com" not in other.get_data(as_text=True)
        assert "css.example.com" not in other.headers["Content-Security-Policy"]


def test_plain_http_stylesheets_load_only_from_loopback_in_development(app, shop):
    from widget_server.profiles.tabs import CART

    values = {"enable_shopping_cart": True, "enable_guest_checkout": False,
              "cart_stylesheet_url": "http://css.example.com/cart.css"}
    with pytest.raises(DomainError) as refused:
        CART.clean(values)
    assert "https://" in refused.value.errors["cart_stylesheet_url"]
    loopback = {**values, "cart_stylesheet_url": "http://127.0.0.1:9999/cart.css"}
    public_url = app.config["PUBLIC_URL"]
    try:
        app.config["PUBLIC_URL"] = "https://portal.example.com"  # production: refused
        with app.app_context(), pytest.raises(DomainError) as refused:
            CART.clean(loopback)
        assert "https://" in refused.value.errors["cart_stylesheet_url"]
        set_cart(app, shop, cart_stylesheet_url="http://127.0.0.1:9999/cart.css")
        page = shop.client.get(shop.cart)  # and not loaded, were it stored before
        assert "127.0.0.1:9999" not in page.headers["Content-Security-Policy"]
        assert "127.0.0.1:9999" not in page.get_data(as_text=True)
        app.config["PUBLIC_URL"] = "http://localhost:5000"  # development: allowed
        with app.app_context():
            assert CART.clean(loopback)["cart_stylesheet_url"] == loopback[
                "cart_stylesheet_url"]
        page = shop.client.get(shop.cart)
        assert "http://127.0.0.1:9999" in _csp(page)["style-src"]
    finally:
        app.config["PUBLIC_URL"] = public_url


def test_the_cart_speaks_the_customers_language(app, shop):
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        merchant.config = {**(merchant.config or {}), "portal": {"languages": ["en", "de"]}}
        db.session.commit()
    _post(shop, "/add", product=str(shop.mug), quantity="1")
    html = shop.client.get(shop.cart, headers={"Accept-Language": "de-DE,de;q=0.9"}
                           ).get_data(as_text=True)
    assert "Ihr Warenkorb" in html and "zzgl. 19 % Steuer" in html and "11,90" in html
    assert "monatlich" in html or "jeden Monat" in html


def test_one_session_has_a_cart_per_merchant(app, shop, portal):
    """The widget's cookie belongs to the host page, not to a merchant: the same session at
    another merchant's cart finds nothing of this one's (and cannot add this one's product)."""
    other = portal("bravo", username="bob", emails=("bob@example.test",))
    set_cart(app, other, enable_shopping_cart=True)
    _post(shop, "/add", product=str(shop.mug), quantity="1")
    page = shop.client.get(f"{other.base}/cart").get_data(as_text=True)
    assert "Your cart is empty." in page and "Mug" not in page
    csrf = csrf_from(shop.client.get(shop.cart).get_data(as_text=True))  # one per session
    refused = shop.client.post(f"{other.base}/cart/add", data={
        "csrf_token": csrf, "product": str(shop.mug), "quantity": "1"})
    assert refused.status_code == 400
    assert "This product is not offered in the cart." in refused.get_data(as_text=True)
    assert 'id="cart-total">$11.90<' in shop.client.get(shop.cart).get_data(as_text=True)


@pytest.mark.parametrize("quantity", ["", "  "])
def test_an_emptied_quantity_on_update_is_refused_not_read_as_one(shop, quantity):
    """Browser pass of #22: an emptied field and "Update" reloaded the cart, saying nothing."""
    assert _post(shop, "/add", product=str(shop.mug), quantity="3").status_code == 302
    answer = _post(shop, "/update", product=str(shop.mug), quantity=quantity)
    assert answer.status_code == 400
    assert "Quantities are whole numbers from 1 to 10,000." in answer.get_data(as_text=True)
    assert _post(shop, "/add", product=str(shop.mug), quantity=quantity).status_code == 302
    assert "4 × $10.00" in shop.client.get(shop.cart).get_data(as_text=True)  # add: one more
