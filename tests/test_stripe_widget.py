"""The widget's pay pages in Stripe mode: Stripe's own fields (Stripe.js) and a CSP that admits
Stripe and nothing else, the pm_… id described by Stripe and charged on the server, and a clear
message, not a 500, while payments are not set up."""

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_from
from tests.payment_support import balances, hidden_fields
from tests.test_stripe_gateway import (  # noqa: F401  (fixtures)
    ACCOUNT,
    API,
    api,
    connect,
    intent,
    stripe_on,
)
from widget_server.billing import issuing
from widget_server.billing.models import Invoice, Payment
from widget_server.core.extensions import db
from widget_server.tenancy.models import Merchant

PM = "pm_1BrowserMade01"


def card_method(pm=PM, kind="card"):
    if kind == "card":
        return {"id": pm, "object": "payment_method", "type": "card", "customer": None,
                "card": {"brand": "mastercard", "last4": "4444", "exp_month": 7,
                         "exp_year": 2031}}
    return {"id": pm, "object": "payment_method", "type": "us_bank_account", "customer": None,
            "us_bank_account": {"bank_name": "STRIPE TEST BANK", "last4": "6789"}}


@pytest.fixture
def stripe_shop(app, billed, stripe_on):  # noqa: F811
    connect(app, billed.merchant_id)
    return billed


def _form(p, path="/pay"):
    return hidden_fields(p.client.get(f"{p.base}{path}").get_data(as_text=True))


def test_the_pay_page_uses_stripes_fields_and_admits_only_stripe(app, stripe_shop):
    response = stripe_shop.client.get(f"{stripe_shop.base}/pay")
    page = response.get_data(as_text=True)
    assert '<script src="https://js.stripe.com/v3/" defer></script>' in page
    assert f'data-stripe-account="{ACCOUNT}"' in page and 'id="payment-element"' in page
    assert 'name="card_number"' not in page and 'name="payment_method_id"' in page
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' https://js.stripe.com;" in csp
    assert "frame-src https://js.stripe.com https://hooks.stripe.com;" in csp
    assert "connect-src 'self' https://api.stripe.com;" in csp
    overview = stripe_shop.client.get(f"{stripe_shop.base}/").headers["Content-Security-Policy"]
    assert "stripe" not in overview and "script-src 'self';" in overview


def test_a_browser_made_method_is_described_by_stripe_and_charged(app, stripe_shop, api):  # noqa: F811
    api.get(f"{API}/v1/payment_methods/{PM}", json=card_method())
    api.post(f"{API}/v1/payment_intents", json=intent(pi="pi_3Widget01"))
    response = stripe_shop.client.post(f"{stripe_shop.base}/pay", data={
        **_form(stripe_shop), "method": "new", "payment_method_id": PM,
        "invoice": str(stripe_shop.invoice_ids[0]),
        # whatever a crafted form claims, the label comes from Stripe
        "card_number": "4242424242424242"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Mastercard •••• 4444" in page
    assert balances(app, stripe_shop) == [0, 10000]
    with app.app_context():
        payment = db.session.scalar(select(Payment))
        assert (payment.reference, payment.method_label) == ("pi_3Widget01",
                                                             "Mastercard •••• 4444")
    for call in api.calls:
        body = call.request.body or ""
        assert "4242424242424242" not in (body.decode() if isinstance(body, bytes) else body)


def test_a_bank_account_is_refused_where_the_profile_takes_cards_only(app, stripe_shop, api):  # noqa: F811
    from tests.payment_support import set_payment

    set_payment(app, stripe_shop, {"payment_methods": ["card"]})
    api.get(f"{API}/v1/payment_methods/{PM}", json=card_method(kind="ach"))
    response = stripe_shop.client.post(f"{stripe_shop.base}/pay", data={
        **_form(stripe_shop), "method": "new", "payment_method_id": PM,
        "invoice": str(stripe_shop.invoice_ids[0])})
    assert response.status_code == 400
    assert "not accepted here" in response.get_data(as_text=True)
    assert balances(app, stripe_shop) == [5000, 10000]


def test_without_a_connected_account_payments_say_so_and_nothing_is_saved(app, billed,
                                                                        stripe_on):  # noqa: F811
    page = billed.client.get(f"{billed.base}/pay")
    assert page.status_code == 503
    html = page.get_data(as_text=True)
    assert "Payments are not set up for this merchant yet." in html
    assert "data-pay-button" not in html
    response = billed.client.post(f"{billed.base}/pay", data={
        "csrf_token": csrf_from(html), "idempotency_key": "k1", "method": "new",
        "payment_method_id": PM, "invoice": str(billed.invoice_ids[0])})
    assert response.status_code == 503
    assert "Payments are not set up" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Payment.id))) == 0


def test_the_guest_page_uses_stripes_fields_too(app, stripe_shop, api):  # noqa: F811
    with app.app_context():
        merchant = db.session.get(Merchant, stripe_shop.merchant_id)
        merchant.config = {**merchant.config,
                           "portal": {"allow_guest_invoice_payment": True}}
        db.session.commit()
        token = issuing.pay_token(db.session.get(Invoice, stripe_shop.invoice_ids[0]))
    guest = app.test_client()
    page = guest.get(f"{stripe_shop.base}/guest/pay/{token}")
    assert 'id="payment-element"' in page.get_data(as_text=True)
    assert "https://js.stripe.com" in page.headers["Content-Security-Policy"]
    api.get(f"{API}/v1/payment_methods/{PM}", json=card_method())
    api.post(f"{API}/v1/payment_intents", json=intent(pi="pi_3Guest01"))
    html = page.get_data(as_text=True)
    paid = guest.post(f"{stripe_shop.base}/guest/pay/{token}", data={
        **hidden_fields(html), "method": "new", "payment_method_id": PM})
    assert "Thank you" in paid.get_data(as_text=True)
    assert balances(app, stripe_shop) == [0, 10000]


def test_a_method_stripe_cannot_forget_now_stays_and_the_customer_is_told(app, stripe_shop,
                                                                         api):  # noqa: F811
    from widget_server.billing.models import PaymentMethod

    with app.app_context():
        saved = PaymentMethod(merchant_id=stripe_shop.merchant_id,
                              customer_id=stripe_shop.customer_id, kind="card", token=PM,
                              label="Visa •••• 4242", is_default=True)
        db.session.add(saved)
        db.session.commit()
        saved_id = saved.id
    api.post(f"{API}/v1/payment_methods/{PM}/detach", status=503,
             json={"error": {"type": "api_error", "message": "unavailable"}})
    page = stripe_shop.client.get(f"{stripe_shop.base}/methods").get_data(as_text=True)
    response = stripe_shop.client.post(f"{stripe_shop.base}/methods/{saved_id}/remove",
                                       data={"csrf_token": csrf_from(page)},
                                       follow_redirects=True)
    assert "could not be reached" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(PaymentMethod, saved_id) is not None
