"""The Stripe gateway and Stripe's webhooks (W-3, B-1), against Stripe's HTTP API as `responses`
sees it: no request leaves the machine (an unmatched one is a connection error, i.e. pending)."""
import hashlib
import hmac
import json
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses
from sqlalchemy import func, select

from tests.payment_support import balances
from widget_server.billing import payments
from widget_server.billing.gateways import (
    NOT_SET_UP,
    ChargeRequest,
    GatewayUnavailable,
    MethodToken,
)
from widget_server.billing.models import GatewayEvent, Invoice, Payment, PaymentMethod
from widget_server.billing.providers import gateway_for
from widget_server.billing.stripe_gateway import NEEDS_ACTION, StripeGateway
from widget_server.core import events
from widget_server.core.domain import DomainError
from widget_server.core.extensions import db
from widget_server.customers.models import Customer
from widget_server.notifications.models import EmailMessage
from widget_server.tenancy.models import Merchant

API = "https://api.stripe.com"
ACCOUNT, OTHER_ACCOUNT = "acct_1TestMerchant01", "acct_1OtherMerchant2"
PLATFORM_KEY, HOOK_SECRET = "sk_test_platform_key", "whsec_test_secret"
CARD_NUMBER = "4242424242424242"  # typed into Stripe's fields in the browser, never sent to us
VISA = MethodToken("pm_1VisaTest", "Visa •••• 4242", "card", "12/34")
DECLINED = "Your card has insufficient funds."


@pytest.fixture
def stripe_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_GATEWAY", "stripe")
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", PLATFORM_KEY)
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", HOOK_SECRET)


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def connect(app, merchant_id, account=ACCOUNT):
    with app.app_context():
        from widget_server.tenancy.configuration import PAYMENTS
        from widget_server.tenancy.services import save_section

        save_section(db.session.get(Merchant, merchant_id), PAYMENTS,
                     {"stripe_account_id": account})  # as the admin's Payments page does
        db.session.commit()


@pytest.fixture
def gateway(app, stripe_on, make_merchant):
    merchant_id, _ = make_merchant("acme")
    connect(app, merchant_id)
    with app.app_context():
        yield gateway_for(db.session.get(Merchant, merchant_id))


def intent(status="succeeded", pi="pi_3TestIntent01", amount=5000, key="key-123", **extra):
    return {"id": pi, "object": "payment_intent", "status": status, "amount": amount,
            "currency": "usd", "metadata": {"idempotency_key": key}, **extra}


def card_error(decline_code="insufficient_funds", message=DECLINED):
    return {"error": {"type": "card_error", "code": "card_declined",
                      "decline_code": decline_code, "message": message,
                      "payment_intent": intent("requires_payment_method", "pi_3Declined01")}}


def req(**fields):
    return ChargeRequest(**{"amount_minor": 5000, "currency": "USD", "token": "pm_1VisaTest",
                            "idempotency_key": "key-123", **fields})


def form(call) -> dict:
    body = call.request.body or ""
    return dict(parse_qsl(body.decode() if isinstance(body, bytes) else body))


# --- charging ---------------------------------------------------------------------------------

def test_a_charge_sends_our_key_the_account_and_the_token(gateway, api):
    api.post(f"{API}/v1/payment_intents", json=intent())
    result = gateway.charge(req(customer_ref="cus_Test01", save=True, description="Payment 7"))
    assert (result.status, result.reference) == ("succeeded", "pi_3TestIntent01")
    (call,) = api.calls
    headers = call.request.headers
    assert headers["Idempotency-Key"] == "key-123"
    assert headers["Stripe-Account"] == ACCOUNT
    assert headers["Authorization"] == f"Bearer {PLATFORM_KEY}"
    assert form(call) == {
        "amount": "5000", "currency": "usd", "payment_method": "pm_1VisaTest",
        "confirm": "true", "payment_method_types[0]": "card", "customer": "cus_Test01",
        "setup_future_usage": "off_session", "description": "Payment 7",
        "metadata[idempotency_key]": "key-123", "metadata[merchant_id]": str(gateway.merchant_id)}


def test_an_off_session_ach_debit_asks_for_a_bank_account(gateway, api):
    api.post(f"{API}/v1/payment_intents", json=intent("processing"))
    result = gateway.charge(req(kind="ach", off_session=True, customer_ref="cus_Test01"))
    assert (result.status, result.reference) == ("pending", "pi_3TestIntent01")
    sent = form(api.calls[0])
    assert sent["payment_method_types[0]"] == "us_bank_account"
    assert sent["off_session"] == "true" and "setup_future_usage" not in sent


def test_an_ach_debit_on_session_carries_the_online_mandate(gateway, api):
    api.post(f"{API}/v1/payment_intents", json=intent("processing"))
    gateway.charge(req(kind="ach", client_ip="203.0.113.9", user_agent="Firefox/140"))
    sent = form(api.calls[0])
    assert sent["mandate_data[customer_acceptance][type]"] == "online"
    assert sent["mandate_data[customer_acceptance][online][ip_address]"] == "203.0.113.9"


@pytest.mark.parametrize(("reply", "status", "reference", "message"), [
    ({"status": 402, "json": card_error()}, "failed", "pi_3Declined01", "insufficient funds"),
    ({"status": 402, "json": card_error("stolen_card", "Your card was declined.")}, "failed",
     "pi_3Declined01", "The card was declined"),
    ({"json": intent("processing")}, "pending", "pi_3TestIntent01", "being processed"),
    ({"json": intent("requires_action")}, "failed", "pi_3TestIntent01", NEEDS_ACTION),
    ({"json": intent("requires_payment_method",
                     last_payment_error={"code": "expired_card", "message": "Expired."})},
     "failed", "pi_3TestIntent01", "The card has expired"),
    ({"json": intent("canceled")}, "failed", "pi_3TestIntent01", "declined"),
    ({"body": requests.exceptions.ConnectTimeout("connect timed out")}, "pending", "",
     "could not be reached"),
    ({"body": requests.exceptions.ReadTimeout("read timed out")}, "pending", "",
     "could not be reached"),
    ({"status": 500, "json": {"error": {"type": "api_error", "message": "Oops"}}}, "pending", "",
     "could not be reached"),
    ({"status": 429, "json": {"error": {"type": "invalid_request_error", "code": "rate_limit",
                                        "message": "Too many requests"}}}, "pending", "", ""),
    ({"status": 400, "json": {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                        "message": "No such PaymentMethod: 'pm_x'"}}},
     "failed", "", "could not be made"),
], ids=["declined-funds", "declined-stolen", "processing", "requires-action",
        "requires-method", "canceled", "connect-timeout", "read-timeout", "5xx", "rate-limit",
        "invalid"])
def test_stripe_answers_are_mapped(gateway, api, reply, status, reference, message):
    api.post(f"{API}/v1/payment_intents", **reply)
    result = gateway.charge(req())
    assert (result.status, result.reference) == (status, reference)
    assert message in result.message
    assert "pm_x" not in result.message and "stolen" not in result.message
    assert len(api.calls) == 1  # the client makes no retries of its own


def test_resolve_repeats_the_create_with_the_same_key(gateway, api):
    api.post(f"{API}/v1/payment_intents",
             body=requests.exceptions.ConnectTimeout("connect timed out"))
    api.post(f"{API}/v1/payment_intents", json=intent())
    assert gateway.charge(req()).status == "pending"
    result = gateway.resolve(req())
    assert (result.status, result.reference) == ("succeeded", "pi_3TestIntent01")
    first, again = api.calls
    assert first.request.headers["Idempotency-Key"] == again.request.headers[
        "Idempotency-Key"] == "key-123"
    assert form(first) == form(again)


def test_resolve_retrieves_an_intent_whose_id_is_known(gateway, api):
    api.get(f"{API}/v1/payment_intents/pi_3TestIntent01", json=intent())
    result = gateway.resolve(req(reference="pi_3TestIntent01"))
    assert (result.status, result.reference) == ("succeeded", "pi_3TestIntent01")


def test_resolve_finds_the_intent_by_its_key_when_the_parameters_changed(gateway, api):
    api.post(f"{API}/v1/payment_intents", status=400, json={"error": {
        "type": "idempotency_error", "message": "Keys for idempotent requests can only be used "
                                                "with the same parameters."}})
    api.get(f"{API}/v1/payment_intents/search",
            json={"object": "search_result", "data": [intent()], "has_more": False})
    result = gateway.resolve(req(off_session=True))
    assert (result.status, result.reference) == ("succeeded", "pi_3TestIntent01")
    query = dict(parse_qsl(urlsplit(api.calls[1].request.url).query))["query"]
    assert query == "metadata['idempotency_key']:'key-123'"


# --- customers and methods --------------------------------------------------------------------

def test_ensure_customer_creates_one_with_a_key_of_merchant_and_customer(app, gateway, api):
    api.post(f"{API}/v1/customers", json={"id": "cus_Test01", "object": "customer"})
    with app.app_context():
        customer = Customer(merchant_id=gateway.merchant_id, first_name="Ada", last_name="Byron",
                            custom_fields={}, gateway_customer_ref="sbx_cus_9")
        db.session.add(customer)
        db.session.flush()
        assert gateway.ensure_customer(customer) == "cus_Test01"
        customer.gateway_customer_ref = "cus_Test01"
        assert gateway.ensure_customer(customer) == "cus_Test01"  # no second call
        (call,) = api.calls
        assert call.request.headers["Idempotency-Key"].startswith(
            f"customer-{gateway.merchant_id}-{customer.id}-")
        assert form(call)["name"] == "Ada Byron"
        db.session.rollback()


def test_ensure_customer_unreachable_is_gateway_unavailable(app, gateway, api):
    api.post(f"{API}/v1/customers", body=requests.exceptions.ConnectTimeout("timed out"))
    with app.app_context():
        customer = Customer(id=1, merchant_id=gateway.merchant_id, first_name="A",
                            last_name="B", custom_fields={})
        with pytest.raises(GatewayUnavailable, match="could not be reached"):
            gateway.ensure_customer(customer)


def test_detach_forgets_a_method_and_ignores_one_already_gone(gateway, api):
    url = f"{API}/v1/payment_methods/pm_1VisaTest/detach"
    api.post(url, json={"id": "pm_1VisaTest", "object": "payment_method", "customer": None})
    api.post(url, status=404, json={"error": {"type": "invalid_request_error",
                                              "code": "resource_missing", "message": "gone"}})
    gateway.detach("pm_1VisaTest")
    gateway.detach("pm_1VisaTest")
    gateway.detach("sandbox:succeeded:4242")  # saved under the sandbox: nothing to ask Stripe
    assert [c.request.headers["Idempotency-Key"] for c in api.calls] == [
        "detach-pm_1VisaTest"] * 2


def test_detach_when_stripe_cannot_be_reached_is_gateway_unavailable(gateway, api):
    api.post(f"{API}/v1/payment_methods/pm_1VisaTest/detach", status=503,
             json={"error": {"type": "api_error", "message": "down"}})
    with pytest.raises(GatewayUnavailable):
        gateway.detach("pm_1VisaTest")


def test_describe_takes_brand_last_four_and_expiry_from_stripe(gateway, api):
    api.get(f"{API}/v1/payment_methods/pm_1VisaTest", json={
        "id": "pm_1VisaTest", "object": "payment_method", "type": "card", "customer": None,
        "card": {"brand": "visa", "last4": "4242", "exp_month": 3, "exp_year": 2031}})
    api.get(f"{API}/v1/payment_methods/pm_1BankTest", json={
        "id": "pm_1BankTest", "object": "payment_method", "type": "us_bank_account",
        "customer": None, "us_bank_account": {"bank_name": "STRIPE TEST BANK", "last4": "6789"}})
    assert gateway.describe("pm_1VisaTest") == MethodToken("pm_1VisaTest", "Visa •••• 4242",
                                                           "card", "03/31")
    assert gateway.describe("pm_1BankTest") == MethodToken(
        "pm_1BankTest", "STRIPE TEST BANK •••• 6789", "ach")


def test_describe_refuses_unknown_foreign_and_malformed_methods(gateway, api):
    api.get(f"{API}/v1/payment_methods/pm_1Missing", status=404, json={"error": {
        "type": "invalid_request_error", "code": "resource_missing", "message": "No such"}})
    api.get(f"{API}/v1/payment_methods/pm_1Foreign", json={
        "id": "pm_1Foreign", "object": "payment_method", "type": "card",
        "customer": "cus_SomeoneElse", "card": {"brand": "visa", "last4": "1111",
                                                "exp_month": 1, "exp_year": 2030}})
    for token in ("pm_1Missing", "pm_1Foreign", "4242 4242 4242 4242", "pm_1/../x"):
        with pytest.raises(DomainError):
            gateway.describe(token, customer_ref="cus_Mine")


def test_no_account_or_no_key_is_gateway_unavailable(app, stripe_on, make_merchant,
                                                     monkeypatch):
    merchant_id, _ = make_merchant("acme")
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        with pytest.raises(GatewayUnavailable, match=NOT_SET_UP):
            gateway_for(merchant)
        merchant.stripe_account_id = ACCOUNT  # set with the Payments section (save_section)
        assert isinstance(gateway_for(merchant), StripeGateway)
        monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "")
        with pytest.raises(GatewayUnavailable, match=NOT_SET_UP):
            gateway_for(merchant)


# --- through payments.pay -----------------------------------------------------------------------

def _pay(app, p, key, method=VISA, **kwargs):
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        customer = db.session.get(Customer, p.customer_id)
        invoice = db.session.get(Invoice, p.invoice_ids[0])
        payment = payments.pay(merchant, customer, [invoice], 5000, method=method,
                               idempotency_key=key, **kwargs)
        db.session.commit()
        return payment.id


def _payment(app, payment_id):
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        db.session.expunge(payment)
        return payment


def _no_card_data_sent(api):
    for call in api.calls:
        body = call.request.body or ""
        body = body.decode() if isinstance(body, bytes) else body
        assert CARD_NUMBER not in body and "cvc" not in body and "number" not in body


def test_a_payment_through_stripe_lands_succeeded_with_the_intent_id(app, billed, stripe_on,
                                                                     api):
    connect(app, billed.merchant_id)
    api.post(f"{API}/v1/payment_intents", json=intent(pi="pi_3Paid01", key="pay-key-1"))
    payment = _payment(app, _pay(app, billed, "pay-key-1"))
    assert (payment.status, payment.reference) == ("succeeded", "pi_3Paid01")
    assert payment.method_token == ""
    assert balances(app, billed) == [0, 10000]
    assert api.calls[0].request.headers["Idempotency-Key"] == "pay-key-1"
    _no_card_data_sent(api)


def test_a_declined_payment_through_stripe_changes_no_balance(app, billed, stripe_on, api):
    connect(app, billed.merchant_id)
    api.post(f"{API}/v1/payment_intents", status=402, json=card_error())
    payment = _payment(app, _pay(app, billed, "pay-key-2"))
    assert payment.status == "failed" and "insufficient funds" in payment.failure_message
    assert balances(app, billed) == [5000, 10000]
    with app.app_context():
        assert db.session.get(Customer, billed.customer_id).credit_minor == 0
        assert db.session.scalar(select(EmailMessage)) is None


def test_a_saved_method_is_kept_by_its_stripe_id_on_a_stripe_customer(app, billed, stripe_on,
                                                                       api):
    connect(app, billed.merchant_id)
    api.post(f"{API}/v1/customers", json={"id": "cus_Jane01", "object": "customer"})
    api.post(f"{API}/v1/payment_intents", json=intent(key="pay-key-3"))
    _pay(app, billed, "pay-key-3", save=True)
    sent = form(api.calls[1])
    assert (sent["customer"], sent["setup_future_usage"]) == ("cus_Jane01", "off_session")
    with app.app_context():
        kept = db.session.scalar(select(PaymentMethod))
        assert (kept.token, kept.label, kept.expires) == ("pm_1VisaTest", "Visa •••• 4242",
                                                          "12/34")
        assert db.session.get(Customer, billed.customer_id).gateway_customer_ref == "cus_Jane01"
    _no_card_data_sent(api)


# --- webhooks ------------------------------------------------------------------------------------

def signed(payload: str, secret=HOOK_SECRET, at=None) -> str:
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def event(kind="payment_intent.succeeded", event_id="evt_1Test01", account=ACCOUNT, **fields):
    return json.dumps({"id": event_id, "object": "event", "type": kind, "account": account,
                       "data": {"object": intent(**fields)}})


def post_hook(client, payload, signature=None):
    return client.post("/hooks/stripe", data=payload, content_type="application/json",
                       headers={"Stripe-Signature": signature or signed(payload)})


@pytest.fixture
def pending(app, billed, stripe_on, api):
    """A payment whose charge timed out: pending, no intent id known."""
    connect(app, billed.merchant_id)
    api.post(f"{API}/v1/payment_intents",
             body=requests.exceptions.ReadTimeout("read timed out"))
    billed.payment_id = _pay(app, billed, "hook-key-1")
    assert _payment(app, billed.payment_id).status == "pending"
    return billed


def _events(app):
    with app.app_context():
        return db.session.scalar(select(func.count(GatewayEvent.id)))


def test_a_signed_event_settles_a_pending_payment_once(app, client, pending):
    payload = event(pi="pi_3Late01", key="hook-key-1")
    first = post_hook(client, payload)
    assert first.status_code == 200 and first.json == {"received": True}
    payment = _payment(app, pending.payment_id)
    assert (payment.status, payment.reference) == ("succeeded", "pi_3Late01")
    assert balances(app, pending) == [0, 10000]
    again = post_hook(client, payload)
    assert again.status_code == 200 and again.json["duplicate"] is True
    assert balances(app, pending) == [0, 10000]
    assert _events(app) == 1
    with app.app_context():
        receipts = db.session.scalar(select(func.count(EmailMessage.id)))
    assert receipts == len(pending.emails)


def test_a_failed_event_fails_the_payment_and_changes_no_balance(app, client, pending):
    payload = event("payment_intent.payment_failed", key="hook-key-1", status=
                    "requires_payment_method", last_payment_error={
                        "code": "card_declined", "decline_code": "insufficient_funds",
                        "message": DECLINED})
    assert post_hook(client, payload).status_code == 200
    payment = _payment(app, pending.payment_id)
    assert payment.status == "failed" and "insufficient funds" in payment.failure_message
    assert balances(app, pending) == [5000, 10000]


def test_an_event_finds_a_processing_payment_by_its_intent_id(app, client, billed, stripe_on,
                                                              api):
    connect(app, billed.merchant_id)
    api.post(f"{API}/v1/payment_intents", json=intent("processing", "pi_3Bank01", key="ach-1"))
    payment_id = _pay(app, billed, "ach-1")
    assert _payment(app, payment_id).reference == "pi_3Bank01"
    payload = json.dumps({"id": "evt_1Bank", "type": "payment_intent.succeeded",
                          "account": ACCOUNT, "data": {"object": {
                              "id": "pi_3Bank01", "status": "succeeded", "amount": 5000,
                              "currency": "usd", "metadata": {}}}})
    assert post_hook(client, payload).status_code == 200
    assert _payment(app, payment_id).status == "succeeded"


@pytest.mark.parametrize("make_signature", [
    lambda payload: f"t={int(time.time())},v1={'0' * 64}",
    lambda payload: signed(payload, secret="whsec_someone_else"),
    lambda payload: signed(payload.replace("5000", "5001")),  # the body changed after signing
    lambda payload: "garbage",
    lambda payload: None,
], ids=["wrong-mac", "other-secret", "other-body", "garbage", "missing"])
def test_a_bad_signature_is_refused_and_changes_nothing(app, client, pending, make_signature):
    payload = event(key="hook-key-1")
    signature = make_signature(payload)
    response = client.post("/hooks/stripe", data=payload, content_type="application/json",
                           headers={"Stripe-Signature": signature} if signature else {})
    assert response.status_code == 400 and "signature" in response.json["error"]
    assert _payment(app, pending.payment_id).status == "pending"
    assert _events(app) == 0


def test_an_old_event_is_refused(app, client, pending):
    payload = event(key="hook-key-1")
    response = post_hook(client, payload, signed(payload, at=int(time.time()) - 301))
    assert response.status_code == 400
    assert _payment(app, pending.payment_id).status == "pending"


def test_no_webhook_secret_configured_verifies_nothing(app, client, pending, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", "")
    payload = event(key="hook-key-1")
    assert post_hook(client, payload, signed(payload, secret="")).status_code == 400
    assert _payment(app, pending.payment_id).status == "pending"


def test_another_merchants_account_cannot_settle_this_merchants_payment(app, client, pending,
                                                                        portal):
    other = portal("other", username="omar", emails=("omar@example.test",))
    connect(app, other.merchant_id, OTHER_ACCOUNT)
    for account in (OTHER_ACCOUNT, None, "acct_1NobodyKnows00"):
        payload = event(event_id=f"evt_{account}", account=account, key="hook-key-1")
        response = post_hook(client, payload)
        assert response.status_code == 200 and response.json["ignored"] is True
    assert _payment(app, pending.payment_id).status == "pending"
    assert balances(app, pending) == [5000, 10000]


def test_an_event_for_another_amount_settles_nothing(app, client, pending):
    response = post_hook(client, event(key="hook-key-1", amount=1))
    assert response.status_code == 200 and response.json["ignored"] is True
    assert _payment(app, pending.payment_id).status == "pending"


def test_other_event_types_are_acknowledged_and_ignored(app, client, pending):
    response = post_hook(client, event("charge.refunded", key="hook-key-1"))
    assert response.status_code == 200 and response.json["ignored"] is True
    assert _payment(app, pending.payment_id).status == "pending"
    assert _events(app) == 0


def test_an_event_for_a_payment_settled_meanwhile_is_recorded_and_changes_nothing(
        app, client, pending):
    assert post_hook(client, event(key="hook-key-1")).status_code == 200
    late = event("payment_intent.payment_failed", event_id="evt_1Test02", key="hook-key-1",
                 status="requires_payment_method")
    assert post_hook(client, late).status_code == 200
    assert _payment(app, pending.payment_id).status == "succeeded"
    assert _events(app) == 2


def test_a_crash_while_settling_keeps_nothing_so_stripes_retry_settles(app, client, pending,
                                                                       monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("the process died half-way")

    payload = event(key="hook-key-1")
    with monkeypatch.context() as patch, pytest.raises(RuntimeError):
        # the receipt's subscriber runs after the balances went down
        patch.setitem(events.SUBSCRIBERS, "payment.succeeded", [crash])
        post_hook(client, payload)
    assert _payment(app, pending.payment_id).status == "pending"
    assert balances(app, pending) == [5000, 10000] and _events(app) == 0
    assert post_hook(client, payload).status_code == 200
    assert _payment(app, pending.payment_id).status == "succeeded"
    assert balances(app, pending) == [0, 10000] and _events(app) == 1
