"""The cart service (issue #22 slice a, SPEC W-8): add, change the quantity, remove; totals with
tax in both tax modes, priced from the catalogue; refusals (another merchant's product, one not
offered in the cart, an archived one, a bad quantity, periods that do not agree)."""
import pytest

from widget_server.catalogue.models import Product
from widget_server.commerce import carts
from widget_server.core.domain import DomainError
from widget_server.core.extensions import db
from widget_server.tenancy.models import Merchant


@pytest.fixture
def shop(app, make_merchant):
    from types import SimpleNamespace

    ids = SimpleNamespace()
    ids.merchant_id, _ = make_merchant("acme")
    ids.other_id, _ = make_merchant("other")
    with app.app_context():
        def product(merchant_id, sku, price, rate=0, *, in_cart=True, active=True, **more):
            p = Product(merchant_id=merchant_id, sku=sku, name=sku.title(),
                        unit_price_minor=price, currency="USD", tax_rate_bp=rate,
                        in_cart=in_cart, active=active, **more)
            db.session.add(p)
            db.session.flush()
            return p.id

        ids.mug = product(ids.merchant_id, "mug", 1000, 1900)
        ids.plan = product(ids.merchant_id, "plan", 500, 700, interval="month")
        ids.yearly = product(ids.merchant_id, "yearly", 5000, 0, interval="year")
        ids.hidden = product(ids.merchant_id, "hidden", 100, in_cart=False)
        ids.archived = product(ids.merchant_id, "archived", 100, active=False)
        ids.foreign = product(ids.other_id, "foreign", 100)
        db.session.commit()
    return ids


def _merchant(ids, inclusive=False):
    merchant = db.session.get(Merchant, ids.merchant_id)
    merchant.config = {"business": {"prices_include_tax": inclusive}}
    db.session.flush()
    return merchant


def test_add_change_and_remove(app, shop):
    with app.app_context():
        merchant = _merchant(shop)
        cart = carts.get_or_create(merchant, "key-1")
        carts.add(merchant, cart, shop.mug, 2)
        carts.add(merchant, cart, shop.mug)  # more of the same: one line
        carts.add(merchant, cart, shop.plan, 1)
        assert [(line.product_id, line.quantity) for line in cart.lines] == [
            (shop.mug, 3), (shop.plan, 1)]
        carts.set_quantity(merchant, cart, shop.plan, 4)
        carts.remove(merchant, cart, shop.mug)
        db.session.commit()
        again = carts.get_or_create(merchant, "key-1")  # the same session: the same cart
        assert again.id == cart.id
        assert [(line.product_id, line.quantity) for line in again.lines] == [(shop.plan, 4)]
        with pytest.raises(DomainError) as refused:
            carts.remove(merchant, again, shop.mug)
        assert refused.value.field == "product"


def test_totals_with_tax_added(app, shop):
    with app.app_context():
        merchant = _merchant(shop, inclusive=False)
        cart = carts.get_or_create(merchant, "k")
        carts.add(merchant, cart, shop.mug, 2)  # 20.00 + 19 % = 23.80
        carts.add(merchant, cart, shop.plan, 1)  # 5.00 + 7 % = 5.35
        s = carts.summary(merchant, cart)
        assert (s.items, s.net_minor, s.tax_minor, s.total_minor, s.currency) == (
            3, 2500, 415, 2915, "USD")
        assert (s.interval, s.interval_count, s.recurring_minor) == ("month", 1, 535)


def test_totals_with_tax_included(app, shop):
    with app.app_context():
        merchant = _merchant(shop, inclusive=True)
        cart = carts.get_or_create(merchant, "k")
        carts.add(merchant, cart, shop.mug, 2)  # 20.00 gross, of which 3.19 tax
        s = carts.summary(merchant, cart)
        assert (s.net_minor, s.tax_minor, s.total_minor) == (1681, 319, 2000)


def test_prices_follow_the_catalogue_not_the_cart(app, shop):
    with app.app_context():
        merchant = _merchant(shop)
        cart = carts.get_or_create(merchant, "k")
        carts.add(merchant, cart, shop.mug, 1)
        db.session.get(Product, shop.mug).unit_price_minor = 2000
        assert carts.summary(merchant, cart).net_minor == 2000
        db.session.get(Product, shop.mug).in_cart = False  # no longer offered: left out
        assert carts.summary(merchant, cart).total_minor == 0
        carts.remove(merchant, cart, shop.mug)  # and still removable
        assert cart.lines == []


@pytest.mark.parametrize("which", ["foreign", "hidden", "archived", "missing"])
def test_refuses_products_not_offered(app, shop, which):
    with app.app_context():
        merchant = _merchant(shop)
        cart = carts.get_or_create(merchant, "k")
        product_id = getattr(shop, which, 999999)
        with pytest.raises(DomainError) as refused:
            carts.add(merchant, cart, product_id, 1)
        assert (refused.value.field, refused.value.message) == ("product", carts.NOT_OFFERED)
        assert cart.lines == []


@pytest.mark.parametrize("quantity", [0, -1, 10001, "2", None, 1.5, True])
def test_refuses_bad_quantities(app, shop, quantity):
    with app.app_context():
        merchant = _merchant(shop)
        cart = carts.get_or_create(merchant, "k")
        with pytest.raises(DomainError) as refused:
            carts.add(merchant, cart, shop.mug, quantity)
        assert refused.value.field == "quantity"
        carts.add(merchant, cart, shop.mug, 1)
        with pytest.raises(DomainError):
            carts.set_quantity(merchant, cart, shop.mug, quantity)
        assert cart.lines[0].quantity == 1


def test_adding_past_the_limit_is_refused(app, shop):
    with app.app_context():
        merchant = _merchant(shop)
        cart = carts.get_or_create(merchant, "k")
        carts.add(merchant, cart, shop.mug, 10000)
        with pytest.raises(DomainError):
            carts.add(merchant, cart, shop.mug, 1)
        assert cart.lines[0].quantity == 10000


def test_recurring_products_of_one_cart_share_a_period(app, shop):
    with app.app_context():
        merchant = _merchant(shop)
        cart = carts.get_or_create(merchant, "k")
        carts.add(merchant, cart, shop.plan, 1)
        with pytest.raises(DomainError) as refused:
            carts.add(merchant, cart, shop.yearly, 1)
        assert refused.value.message == carts.MIXED_PERIODS


def test_carts_are_per_merchant(app, shop):
    with app.app_context():
        merchant = _merchant(shop)
        other = db.session.get(Merchant, shop.other_id)
        cart = carts.get_or_create(merchant, "same-key")
        carts.add(merchant, cart, shop.mug, 1)
        assert carts.find(other, "same-key") is None
        theirs = carts.get_or_create(other, "same-key")
        assert theirs.id != cart.id and theirs.lines == []
        with pytest.raises(ValueError):
            carts.add(other, cart, shop.foreign, 1)  # never a cart of another merchant
        assert carts.find(merchant, None) is None and carts.find(merchant, "x" * 65) is None


def test_emptying_a_cart_another_request_emptied_first_is_quiet(app, shop):
    """Two checkouts of one cart racing (a double submit): the loser empties lines the winner
    already deleted, which must not fail its request (it did: a 500 under CI's load)."""
    from sqlalchemy import delete

    from widget_server.commerce.models import CartLine

    with app.app_context():
        merchant = _merchant(shop)
        cart = carts.get_or_create(merchant, "key-race")
        carts.add(merchant, cart, shop.mug, 2)
        db.session.commit()
        assert len(cart.lines) == 1  # loaded, as the losing request has them
        db.session.execute(delete(CartLine).where(CartLine.cart_id == cart.id)
                           .execution_options(synchronize_session=False))
        carts.empty(merchant, cart)
        db.session.commit()
        assert carts.summary(merchant, carts.get_or_create(merchant, "key-race")).lines == []
