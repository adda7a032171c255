"""The cart and the account widget share the widget session (E-7, issue #22 slice d): a visitor's
cart survives signing in (the sign-in's fresh session keeps the cart's key) and then records the
customer; a sign-in with no cart makes none."""
from sqlalchemy import func, select

from tests.conftest import csrf_from, widget_login
from widget_server.catalogue.models import Product
from widget_server.commerce.models import Cart
from widget_server.core.extensions import db
from widget_server.profiles.models import SelfServiceProfile


def _offer_the_cart(app, p):
    with app.app_context():
        db.session.add(Product(merchant_id=p.merchant_id, sku="MUG", name="Mug",
                               unit_price_minor=1000, currency="USD", in_cart=True))
        profile = db.session.get(SelfServiceProfile, p.profile_id)
        profile.settings = {**(profile.settings or {}), "cart": {"enable_shopping_cart": True}}
        db.session.commit()
        return db.session.scalar(select(Product.id).where(Product.sku == "MUG"))


def test_signing_in_keeps_the_cart_and_records_the_customer(app, portal):
    p = portal()
    mug = _offer_the_cart(app, p)
    client = app.test_client()
    csrf = csrf_from(client.get(f"{p.base}/cart").get_data(as_text=True))
    assert client.post(f"{p.base}/cart/add", data={"csrf_token": csrf, "product": mug,
                                                   "quantity": "3"}).status_code == 302
    with app.app_context():
        assert db.session.scalars(select(Cart.customer_id)).all() == [None]
    assert widget_login(client, p.base, p.username, p.password).status_code == 302
    with app.app_context():
        assert db.session.scalars(select(Cart.customer_id)).all() == [p.customer_id]
    page = client.get(f"{p.base}/cart").get_data(as_text=True)
    assert "$30.00" in page and "Your cart is empty." not in page


def test_signing_in_without_a_cart_makes_none(app, portal):
    p = portal()
    _offer_the_cart(app, p)
    client = app.test_client()
    assert widget_login(client, p.base, p.username, p.password).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Cart)) == 0
    assert "Your cart is empty." in client.get(f"{p.base}/cart").get_data(as_text=True)
