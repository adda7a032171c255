"""Checking out the cart (issue #22 slice b, SPEC W-8): a signed-in customer pays the cart by
card through the checkout service; one order, a paid invoice, the cart emptied, the events and
the emails. A double submit (two concurrent POSTs) charges once and makes one order; a declined
card keeps the cart and a retry pays the same order; crafted checkouts with the cart or
payments switched off are refused; a visitor signs in first and comes back to the checkout."""
import threading

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from, widget_login
from tests.payment_support import CARD, hidden_fields, set_payment
from tests.test_checkout_race import Tab, _submit_at_once
from tests.test_widget_cart import _event, _post, set_cart, shop  # noqa: F401
from widget_server.billing import gateways
from widget_server.billing.models import Invoice, Payment
from widget_server.commerce.models import Cart, Order
from widget_server.core.extensions import db
from widget_server.jobs import queue
from widget_server.notifications.models import EmailMessage

DECLINED = {**CARD, "card_number": "4000 0000 0000 0002"}


@pytest.fixture
def charges(monkeypatch):
    seen, lock = [], threading.Lock()
    real = gateways.SandboxGateway.charge

    def counted(self, request):
        with lock:
            seen.append(request.amount_minor)
        return real(self, request)

    monkeypatch.setattr(gateways.SandboxGateway, "charge", counted)
    return seen


def _fill(p, quantity="2"):
    """Sign in and put two mugs in the cart ($23.80 with tax)."""
    widget_login(p.client, p.base, p.username, p.password)
    assert _post(p, "/add", product=str(p.mug), quantity=quantity).status_code == 302


def _checkout_form(p):
    page = p.client.get(f"{p.cart}/checkout")
    assert page.status_code == 200, page.status_code
    return page.get_data(as_text=True), hidden_fields(page.get_data(as_text=True))


def _state(app, p):
    with app.app_context():
        orders = db.session.scalars(select(Order).where(
            Order.merchant_id == p.merchant_id)).all()
        invoices = db.session.scalars(select(Invoice).where(
            Invoice.merchant_id == p.merchant_id)).all()
        payments = db.session.scalars(select(Payment).where(
            Payment.merchant_id == p.merchant_id)).all()
        lines = sum(len(c.lines) for c in db.session.scalars(select(Cart)))
        return ([(o.number, o.total_minor) for o in orders],
                [(i.status, i.balance_minor) for i in invoices],
                sorted(x.status for x in payments), lines)


def test_the_cart_offers_check_out_under_its_totals(shop):  # noqa: F811
    _post(shop, "/add", product=str(shop.mug), quantity="1")
    html = shop.client.get(shop.cart).get_data(as_text=True)
    assert 'id="cart-checkout"' in html and f'href="{shop.cart}/checkout"' in html
    assert html.index('id="cart-totals"') < html.index('id="cart-checkout"')


def test_a_signed_in_customer_checks_out_by_card(app, shop, charges):  # noqa: F811
    _fill(shop)
    html, fields = _checkout_form(shop)
    assert "Mug" in html and 'id="checkout-total">$23.80<' in html
    assert 'name="card_number"' in html and "Pay $23.80" in html
    answer = shop.client.post(f"{shop.cart}/checkout", data={**fields, **CARD})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200, page[:2000]
    assert "Your order ORD-00001 is placed and $23.80 is paid." in page
    # the order opens outside the cart's small frame (no portal page set: a new tab)
    order_id = _state_order_id(app, shop)
    assert (f'href="https://portal.example.test/p/{shop.slug}/orders/{order_id}" '
            'target="_blank" rel="noopener">View the order</a>') in page
    assert _event(page) == ("checkout-succeeded", {"order": "ORD-00001", "amount": "23.80",
                                                   "amount_minor": 2380, "currency": "USD"})
    assert charges == [2380]
    assert _state(app, shop) == ([("ORD-00001", 2380)], [("paid", 0)], ["succeeded"], 0)
    assert "Your cart is empty." in shop.client.get(shop.cart).get_data(as_text=True)
    # the same form again (a reload, a double click): no second charge, no second order
    again = shop.client.post(f"{shop.cart}/checkout", data={**fields, **CARD})
    assert "ORD-00001" in again.get_data(as_text=True) and charges == [2380]
    assert len(_state(app, shop)[0]) == 1
    # the Order Confirmation and the receipt, once each; no "please pay" for a paid invoice
    assert _emails(app, shop) == PAID_EMAILS


# one of each to each of the customer's two addresses
PAID_EMAILS = ["order_confirmation"] * 2 + ["payment_receipt"] * 2


def _state_order_id(app, p) -> int:
    with app.app_context():
        return db.session.scalar(select(Order.id).where(Order.merchant_id == p.merchant_id))


def _emails(app, p):
    with app.app_context():
        queue.run_due()
        return sorted(db.session.scalars(select(EmailMessage.email_type).where(
            EmailMessage.merchant_id == p.merchant_id)))


def test_a_declined_checkout_sends_nothing_until_it_is_paid(app, shop, charges):  # noqa: F811
    """Browser pass of #22: a declined card left the customer with an Order Confirmation and
    an invoice to pay for an order they never completed."""
    _fill(shop)
    _, fields = _checkout_form(shop)
    assert shop.client.post(f"{shop.cart}/checkout",
                            data={**fields, **DECLINED}).status_code == 402
    assert _emails(app, shop) == []
    _, fields = _checkout_form(shop)
    assert shop.client.post(f"{shop.cart}/checkout", data={**fields, **CARD}).status_code == 200
    assert _emails(app, shop) == PAID_EMAILS


def test_a_declined_card_keeps_the_cart_and_a_retry_pays_the_same_order(app, shop,  # noqa: F811
                                                                       charges):
    _fill(shop)
    _, fields = _checkout_form(shop)
    answer = shop.client.post(f"{shop.cart}/checkout", data={**fields, **DECLINED})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 402
    assert 'id="checkout-error"' in page and "declined" in page.lower()
    kind, detail = _event(page)
    assert kind == "checkout-failed" and detail["amount_minor"] == 2380 and detail["reason"]
    orders, invoices, payments, lines = _state(app, shop)
    assert orders == [("ORD-00001", 2380)] and invoices == [("issued", 2380)]
    assert payments == ["failed"] and lines == 1  # the cart is kept
    # the page offers a new attempt (a new key): it pays the same order, once
    retry = hidden_fields(page)
    assert retry["idempotency_key"] != fields["idempotency_key"]
    answer = shop.client.post(f"{shop.cart}/checkout", data={**retry, **CARD})
    assert "Your order ORD-00001 is placed and $23.80 is paid." in answer.get_data(as_text=True)
    orders, invoices, payments, lines = _state(app, shop)
    assert orders == [("ORD-00001", 2380)] and invoices == [("paid", 0)]
    assert payments == ["failed", "succeeded"] and lines == 0
    assert charges == [2380, 2380]  # the declined attempt and the paid one


def test_a_cart_changed_after_a_decline_replaces_the_unpaid_order(app, shop,  # noqa: F811
                                                                   charges):
    """The customer is declined, changes the cart and pays: one order stands, the abandoned
    one is cancelled and its unpaid invoice voided (not left owing in the account)."""
    _fill(shop)
    _, fields = _checkout_form(shop)
    assert shop.client.post(f"{shop.cart}/checkout",
                            data={**fields, **DECLINED}).status_code == 402
    assert _post(shop, "/update", product=str(shop.mug), quantity="1").status_code == 302
    _, fields = _checkout_form(shop)
    answer = shop.client.post(f"{shop.cart}/checkout", data={**fields, **CARD})
    assert "Your order ORD-00002 is placed and $11.90 is paid." in answer.get_data(as_text=True)
    orders, invoices, payments, lines = _state(app, shop)
    assert orders == [("ORD-00001", 2380), ("ORD-00002", 1190)]
    assert invoices == [("void", 2380), ("paid", 0)] and payments == ["failed", "succeeded"]
    with app.app_context():
        first = db.session.scalar(select(Order).where(Order.number == "ORD-00001"))
        assert first.status == "cancelled" and first.next_billing_date is None
    assert lines == 0


@pytest.mark.parametrize("submits", [2, 4])
def test_a_double_submitted_checkout_charges_once_and_makes_one_order(app, shop,  # noqa: F811
                                                                     live_server, charges,
                                                                     submits):
    tab = Tab(live_server + shop.base)
    tab.sign_in(shop.username, shop.password)
    page = tab.get("/cart")
    assert tab.post("/cart/add", {"csrf_token": csrf_from(page.text), "product": str(shop.mug),
                                  "quantity": "2"}).status_code == 302
    page = tab.get("/cart/checkout")
    assert page.status_code == 200
    form = {**hidden_fields(page.text), **CARD}
    answers = _submit_at_once([form] * submits, tab, "/cart/checkout")
    assert len(charges) == 1, charges
    assert [a.status_code for a in answers].count(200) >= 1, [a.text[:300] for a in answers]
    for answer in answers:  # each names the one order, or says its payment is under way
        assert (answer.status_code == 200 and "ORD-00001" in answer.text) or (
            answer.status_code == 409 and "being processed" in answer.text), answer.text[:500]
    orders, invoices, payments, _ = _state(app, shop)
    assert orders == [("ORD-00001", 2380)] and invoices == [("paid", 0)]
    assert payments == ["succeeded"]
    assert _emails(app, shop) == PAID_EMAILS  # one confirmation, however many submits


@pytest.mark.parametrize("switch", ["cart", "payments"])
def test_a_crafted_checkout_with_a_switch_off_is_refused(app, shop, charges,  # noqa: F811
                                                         switch):
    _fill(shop)
    _, fields = _checkout_form(shop)
    if switch == "cart":
        set_cart(app, shop, enable_shopping_cart=False)
    else:
        set_payment(app, shop, {"allow_payments": False})
    answer = shop.client.post(f"{shop.cart}/checkout", data={**fields, **CARD})
    assert answer.status_code == 403
    assert shop.client.get(f"{shop.cart}/checkout").status_code == 403
    assert charges == [] and _state(app, shop)[:3] == ([], [], [])
    if switch == "payments":  # the cart no longer offers to check out
        html = shop.client.get(shop.cart).get_data(as_text=True)
        assert 'id="cart-checkout"' not in html


def test_a_visitor_signs_in_first_and_comes_back_to_the_checkout(app, shop):  # noqa: F811
    _post(shop, "/add", product=str(shop.mug), quantity="1")
    answer = shop.client.get(f"{shop.cart}/checkout")
    # the way back is in the sign-in page's own address (the session is shared, E-7)
    assert answer.status_code == 302
    assert answer.location.endswith(f"{shop.base}/login?next={shop.cart}/checkout")
    sign_in = shop.client.get(answer.location).get_data(as_text=True)
    assert 'id="cart-ways"' in sign_in and "Back to the cart" in sign_in  # not a dead end
    signed = widget_login(shop.client, shop.base, shop.username, shop.password,
                          query_string={"next": f"{shop.cart}/checkout"})
    assert signed.status_code == 302 and signed.location.endswith(f"{shop.cart}/checkout")
    # without it (the account widget's own sign-in beside the cart): the account
    shop.client = app.test_client()
    _post(shop, "/add", product=str(shop.mug), quantity="1")
    shop.client.get(f"{shop.cart}/checkout")
    plain = widget_login(shop.client, shop.base, shop.username, shop.password)
    assert plain.status_code == 302 and "/cart" not in plain.location
    html = shop.client.get(f"{shop.cart}/checkout").get_data(as_text=True)
    assert "Mug" in html and 'id="checkout-total">$11.90<' in html  # the same cart


def test_an_empty_cart_has_nothing_to_check_out(app, shop, charges):  # noqa: F811
    widget_login(shop.client, shop.base, shop.username, shop.password)
    html, _ = _checkout_form(shop)
    assert "Your cart is empty." in html and 'id="checkout-form"' not in html
    csrf = csrf_from(shop.client.get(shop.cart).get_data(as_text=True))
    answer = shop.client.post(f"{shop.cart}/checkout", data={"csrf_token": csrf, **CARD})
    assert answer.status_code == 400 and charges == []
    assert "Your cart is empty." in answer.get_data(as_text=True)


def test_the_loader_passes_the_checkout_events(client):
    loader = client.get("/embed/loader.js").get_data(as_text=True)
    assert "checkout-succeeded" in loader and "checkout-failed" in loader


def test_the_checkout_pays_its_own_order_only(app, shop, charges):  # noqa: F811
    """With "must pay all outstanding" on the Pay page, the cart still pays its own order's
    invoice, in full, and nothing else; a cart changed after a decline is a new order."""
    set_payment(app, shop, {"invoice_choice": "all"})
    _fill(shop, quantity="1")
    _, fields = _checkout_form(shop)
    shop.client.post(f"{shop.cart}/checkout", data={**fields, **DECLINED})  # ORD-00001 open
    assert _post(shop, "/update", product=str(shop.mug), quantity="2").status_code == 302
    _, fields = _checkout_form(shop)
    answer = shop.client.post(f"{shop.cart}/checkout", data={**fields, **CARD})
    assert "Your order ORD-00002 is placed and $23.80 is paid." in answer.get_data(as_text=True)
    orders, invoices, payments, lines = _state(app, shop)
    assert payments == ["failed", "succeeded"]
    assert orders == [("ORD-00001", 1190), ("ORD-00002", 2380)]
    # the abandoned ORD-00001 is voided (not paid along, not left owing)
    assert sorted(invoices) == [("paid", 0), ("void", 1190)] and lines == 0
    assert charges == [1190, 2380]


def test_a_product_withdrawn_from_the_cart_is_not_ordered(app, shop, charges):  # noqa: F811
    _fill(shop, quantity="1")
    assert _post(shop, "/add", product=str(shop.plan), quantity="1").status_code == 302
    from widget_server.catalogue.models import Product

    with app.app_context():
        db.session.get(Product, shop.plan).in_cart = False
        db.session.commit()
    html, fields = _checkout_form(shop)
    assert "Plan" not in html.split('id="checkout-lines"')[1].split("</ul>")[0]
    answer = shop.client.post(f"{shop.cart}/checkout", data={**fields, **CARD})
    assert "$11.90 is paid" in answer.get_data(as_text=True) and charges == [1190]
    assert _state(app, shop)[0] == [("ORD-00001", 1190)]
