"""The cart's checkout in Stripe mode (issue #22): Stripe's own fields on the checkout page, a
CSP that admits Stripe beside the cart's stylesheet origin and nothing else, the browser-made
pm_… described by Stripe and charged once on the server for the order's amount; a decline from
Stripe keeps the cart."""

from sqlalchemy import select

from tests.conftest import widget_login
from tests.payment_support import hidden_fields
from tests.test_stripe_gateway import (  # noqa: F401  (fixtures)
    API,
    api,
    card_error,
    connect,
    intent,
    stripe_on,
)
from tests.test_stripe_widget import PM, card_method
from tests.test_widget_cart import _post, set_cart, shop  # noqa: F401
from widget_server.billing.models import Invoice, Payment
from widget_server.commerce.models import Cart
from widget_server.core.extensions import db

SHEET = "https://styles.example.com/cart.css"


def _ready(app, p):
    connect(app, p.merchant_id)
    set_cart(app, p, cart_stylesheet_url=SHEET)
    widget_login(p.client, p.base, p.username, p.password)
    assert _post(p, "/add", product=str(p.mug), quantity="2").status_code == 302


def test_the_checkout_uses_stripes_fields_beside_the_cart_stylesheet(app, shop, stripe_on):  # noqa: F811
    _ready(app, shop)
    response = shop.client.get(f"{shop.cart}/checkout")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="payment-element"' in page and 'name="card_number"' not in page
    assert f'href="{SHEET}"' in page
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' https://js.stripe.com;" in csp
    assert "https://styles.example.com" in csp.split("style-src", 1)[1].split(";", 1)[0]
    assert "styles.example.com" not in csp.split("style-src", 1)[0]  # styles only


def test_a_stripe_checkout_charges_the_order_once_and_a_decline_keeps_the_cart(app, shop,  # noqa: F811
                                                                              stripe_on, api):  # noqa: F811
    _ready(app, shop)
    api.get(f"{API}/v1/payment_methods/{PM}", json=card_method())
    api.post(f"{API}/v1/payment_intents", json=card_error(), status=402)
    form = hidden_fields(shop.client.get(f"{shop.cart}/checkout").get_data(as_text=True))
    declined = shop.client.post(f"{shop.cart}/checkout",
                                data={**form, "method": "new", "payment_method_id": PM})
    assert declined.status_code == 402 and 'id="checkout-error"' in declined.get_data(
        as_text=True)
    with app.app_context():
        assert sum(len(c.lines) for c in db.session.scalars(select(Cart))) == 1

    api.get(f"{API}/v1/payment_methods/{PM}", json=card_method())
    api.post(f"{API}/v1/payment_intents", json=intent(pi="pi_3Cart01", amount=2380))
    form = hidden_fields(declined.get_data(as_text=True))
    paid = shop.client.post(f"{shop.cart}/checkout",
                            data={**form, "method": "new", "payment_method_id": PM})
    assert "is placed and $23.80 is paid." in paid.get_data(as_text=True)
    charges = [c for c in api.calls if c.request.url.endswith("/v1/payment_intents")]
    assert len(charges) == 2
    body = charges[-1].request.body
    body = body.decode() if isinstance(body, bytes) else body
    assert "amount=2380" in body and "currency=usd" in body and PM in body
    with app.app_context():
        payment = db.session.scalar(select(Payment).where(Payment.status == "succeeded"))
        assert (payment.reference, payment.method_label) == ("pi_3Cart01",
                                                             "Mastercard •••• 4444")
        assert db.session.scalars(select(Invoice.status)).all() == ["paid"]
        assert sum(len(c.lines) for c in db.session.scalars(select(Cart))) == 0
