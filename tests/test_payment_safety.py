"""Money safety found in review: keys nobody else can claim, nothing left pending without a
worker to resolve it, forms loaded under other rules sent back for review (P-8), Stripe saved
methods charged with their customer, and inputs that must never be a 500 or echoed back."""
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from tests.conftest import csrf_from, widget_login
from tests.payment_support import CARD, balances, pay_form, set_payment
from tests.test_stripe_gateway import (  # noqa: F401  (fixtures)
    API,
    api,
    connect,
    intent,
    stripe_on,
)
from tests.test_stripe_gateway import form as sent_form
from widget_server.billing import issuing, payments
from widget_server.billing.gateways import MethodToken
from widget_server.billing.invoices import build_invoice
from widget_server.billing.models import Invoice, Payment, PaymentMethod
from widget_server.catalogue.models import Product
from widget_server.core import events
from widget_server.core.extensions import db
from widget_server.core.passwords import hash_password
from widget_server.customers.models import Customer, CustomerEmail
from widget_server.jobs import queue
from widget_server.notifications import subscribers
from widget_server.tenancy.models import Merchant

LATER = datetime.now(UTC) + timedelta(days=400)


def _pay(p, data, client=None):
    client = client or p.client
    page = client.get(f"{p.base}/pay").get_data(as_text=True)
    from tests.payment_support import hidden_fields

    return client.post(f"{p.base}/pay", data={**hidden_fields(page), **data})


def _run_due(app):
    with app.app_context():
        queue.run_due(LATER)


def _other_customer(app, p):
    with app.app_context():
        bob = Customer(merchant_id=p.merchant_id, first_name="Bob", last_name="Roe",
                       username="bob", password_hash=hash_password("bob-pass-123"),
                       custom_fields={})
        bob.emails = [CustomerEmail(merchant_id=p.merchant_id, address="bob@example.test")]
        db.session.add(bob)
        db.session.commit()
    client = p.client.application.test_client()
    widget_login(client, p.base, "bob", "bob-pass-123")
    return client


def _issue_with_autopay(app, p, qty=3):
    _pay(p, {**CARD, "invoice": str(p.invoice_ids[0]), "autopay": "y"})
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        draft = build_invoice(merchant, db.session.get(Customer, p.customer_id),
                              [(db.session.get(Product, p.product_id), qty)], number="AUTO",
                              issue_date=None, due_date=date.today() + timedelta(days=3),
                              status="draft")
        db.session.commit()
        return merchant.id, draft.id


def test_a_browser_cannot_take_the_key_of_an_autopay_payment(app, billed):
    _, invoice_id = _issue_with_autopay(app, billed)
    set_payment(app, billed, {"payment_amount": "any"})
    bob = _other_customer(app, billed)
    page = bob.get(f"{billed.base}/pay").get_data(as_text=True)
    from tests.payment_support import hidden_fields

    bob.post(f"{billed.base}/pay", data={**hidden_fields(page), **CARD, "amount": "1",
                                          "idempotency_key": f"autopay-invoice-{invoice_id}"})
    with app.app_context():  # issuing still works, autopay included
        merchant = db.session.get(Merchant, billed.merchant_id)
        issuing.issue(merchant, db.session.get(Invoice, invoice_id), date.today())
        db.session.commit()
        keys = set(db.session.scalars(select(Payment.idempotency_key)))
    assert f"autopay-invoice-{invoice_id}" in keys
    assert all(k.startswith(("c:", "autopay-")) for k in keys)


def test_nobody_sees_another_customers_payment_by_its_key(app, billed):
    _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[0]),
                  "idempotency_key": "shared-key"})
    set_payment(app, billed, {"payment_amount": "any"})
    bob = _other_customer(app, billed)
    response = _pay(billed, {**CARD, "amount": "1", "idempotency_key": "shared-key"},
                    client=bob)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "reload the page" in html
    assert "Visa •••• 4242" not in html and "$50.00" not in html
    with app.app_context():
        assert [p.amount_minor for p in db.session.scalars(select(Payment))] == [5000]


def test_a_crash_after_the_charge_is_resolved_by_the_worker(app, billed, monkeypatch):
    real, calls = list(events.SUBSCRIBERS["payment.succeeded"]), []

    def flaky(*args, **kwargs):  # the receipt's subscriber, failing the first time
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("UPDATE invoice", {}, Exception("database is locked"))
        return [fn(*args, **kwargs) for fn in real]

    monkeypatch.setitem(events.SUBSCRIBERS, "payment.succeeded", [flaky])
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    assert _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[0])}).status_code == 500
    _run_due(app)
    with app.app_context():
        assert db.session.scalar(select(Payment.status)) == "succeeded"
    assert balances(app, billed) == [0, 10000]


def test_a_resolve_that_cannot_reach_the_gateway_stays_pending(app, billed, stripe_on,  # noqa: F811
                                                               api):  # noqa: F811
    connect(app, billed.merchant_id)
    api.post(f"{API}/v1/payment_intents", status=500,
             json={"error": {"type": "api_error", "message": "boom"}})
    with app.app_context():
        payment = payments.pay(db.session.get(Merchant, billed.merchant_id),
                               db.session.get(Customer, billed.customer_id),
                               [db.session.get(Invoice, billed.invoice_ids[0])], 5000,
                               method=MethodToken("pm_1VisaTest", "Visa •••• 4242"),
                               idempotency_key="c:timeout")
        db.session.commit()
        assert payment.status == "pending"
    connect(app, billed.merchant_id, "")  # the merchant's account is gone meanwhile
    _run_due(app)
    with app.app_context():
        assert db.session.scalar(select(Payment.status)) == "pending"  # never "failed"


@pytest.mark.parametrize(("before", "after", "extra"), [
    ({"payment_amount": "any"}, {"payment_amount": "balance"}, {"amount": "20.00"}),
    ({}, {"invoice_choice": "all"}, {}),
    ({}, {"card_ach_mode": "force_autopay"}, {}),
])
def test_a_form_loaded_under_other_payment_options_is_sent_back(app, billed, before, after,
                                                                extra):
    set_payment(app, billed, before)
    form = pay_form(billed)
    set_payment(app, billed, after)
    response = billed.client.post(f"{billed.base}/pay", data={
        **form, **CARD, **extra, "invoice": str(billed.invoice_ids[0])})
    assert response.status_code == 400
    assert "payment options have changed" in response.get_data(as_text=True)
    assert balances(app, billed) == [5000, 10000]
    with app.app_context():
        assert db.session.scalar(select(Payment)) is None
        assert db.session.get(Customer, billed.customer_id).autopay is False
    # the page shown again carries the new rules: submitting it now works
    ticked = {} if after.get("invoice_choice") == "all" else {
        "invoice": str(billed.invoice_ids[0])}  # "pay all" pages tick nothing
    again = billed.client.post(f"{billed.base}/pay", data={**pay_form(billed), **CARD, **ticked})
    assert again.status_code == 200


def test_a_saved_stripe_method_is_charged_with_its_customer(app, billed, stripe_on,  # noqa: F811
                                                            api):  # noqa: F811
    connect(app, billed.merchant_id)
    with app.app_context():
        db.session.get(Customer, billed.customer_id).gateway_customer_ref = "cus_Jane01"
        saved = PaymentMethod(merchant_id=billed.merchant_id, customer_id=billed.customer_id,
                              kind="card", token="pm_1SavedVisa", label="Visa •••• 4242",
                              expires="12/34", is_default=True)
        db.session.add(saved)
        db.session.commit()
        saved_id = saved.id
    api.post(f"{API}/v1/payment_intents", json=intent(pi="pi_3Saved01"))
    _pay(billed, {"method": f"saved-{saved_id}", "invoice": str(billed.invoice_ids[0])})
    assert sent_form(api.calls[-1]).get("customer") == "cus_Jane01"
    assert balances(app, billed) == [0, 10000]


@pytest.mark.parametrize("raw", ["9e999999", "1E+999998", "NaN", "-0", "1e-40"])
def test_odd_amounts_are_a_message_next_to_the_field(app, billed, raw):
    set_payment(app, billed, {"payment_amount": "any"})
    response = _pay(billed, {**CARD, "amount": raw, "invoice": str(billed.invoice_ids[0])})
    assert response.status_code == 400 and 'id="amount-error"' in response.get_data(
        as_text=True)
    assert balances(app, billed) == [5000, 10000]


def test_typed_card_numbers_are_not_echoed_back(app, billed):
    response = _pay(billed, {**CARD, "card_number": "4242424242424242", "cvc": "987",
                             "expiry": "13/99", "invoice": str(billed.invoice_ids[0])})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="expiry-error"' in html
    assert "4242424242424242" not in html and 'value="987"' not in html
    assert csrf_from(html)


def test_autopay_can_be_turned_off_after_the_merchant_stops_keeping_methods(app, billed):
    _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[0]), "autopay": "y"})
    set_payment(app, billed, {"card_ach_mode": "no_save"})
    page = billed.client.get(f"{billed.base}/methods").get_data(as_text=True)
    assert "Turn autopay off" in page
    billed.client.post(f"{billed.base}/methods/autopay", data={"csrf_token": csrf_from(page)})
    with app.app_context():
        assert db.session.get(Customer, billed.customer_id).autopay is False
    again = billed.client.get(f"{billed.base}/methods").get_data(as_text=True)
    assert "Turn autopay on" not in again  # not offered again under no_save
    refused = billed.client.post(f"{billed.base}/methods/autopay",
                                 data={"csrf_token": csrf_from(again), "autopay": "on"})
    assert refused.status_code == 403


def test_receipts_and_history_use_the_merchants_calendar_day(app, billed, monkeypatch):
    with app.app_context():
        db.session.get(Merchant, billed.merchant_id).timezone = "Pacific/Auckland"
        db.session.commit()
    evening_utc = datetime(2031, 3, 1, 20, 0, tzinfo=UTC)  # 2 March, 09:00 in Auckland
    monkeypatch.setattr(payments, "utcnow", lambda: evening_utc)
    monkeypatch.setattr(subscribers, "utcnow", lambda: evening_utc)  # the receipt's date
    _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[0])})
    with app.app_context():
        payment = db.session.scalar(select(Payment))
        payment.created_at = evening_utc
        db.session.commit()
        from widget_server.notifications.models import EmailMessage

        receipt = db.session.scalar(select(EmailMessage.text_body).where(
            EmailMessage.email_type == "payment_receipt"))
    assert "Mar 2, 2031" in receipt
    history = billed.client.get(f"{billed.base}/payments").get_data(as_text=True)
    assert "Mar 2, 2031" in history and "Mar 1, 2031" not in history


@pytest.mark.parametrize(("locale", "currency"), [
    ("de_DE", "EUR"), ("en_US", "USD"), ("en_IN", "INR"), ("ja_JP", "JPY"), ("fr_FR", "EUR"),
    ("de_CH", "CHF"), ("ar_EG", "EGP"), ("pl_PL", "PLN"), ("ar_KW", "KWD"), ("es_ES", "EUR")])
def test_fast_money_formatting_writes_exactly_what_babel_writes(locale, currency):
    import random

    from widget_server.core import money

    rng = random.Random(f"{locale}{currency}")
    amounts = [0, 1, -1, 999, 1000, 123456, 10 ** 15] + [
        rng.randint(-10 ** 12, 10 ** 12) // rng.choice((1, 100, 10 ** 6)) for _ in range(300)]
    for minor in amounts:
        assert money.format_money(minor, currency, locale) == money._babel(minor, currency,
                                                                           locale)


def test_an_invoice_with_a_pending_payment_is_not_offered_again(app, billed):
    _pay(billed, {**CARD, "card_number": "4000 0000 0000 0119",
                  "invoice": str(billed.invoice_ids[0])})  # the gateway times out: pending
    page = billed.client.get(f"{billed.base}/pay").get_data(as_text=True)
    assert "payment in progress" in page
    assert f'name="invoice" value="{billed.invoice_ids[0]}"' not in page
    again = _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[0])})  # crafted
    assert again.status_code == 409 and "being processed" in again.get_data(as_text=True)
    set_payment(app, billed, {"invoice_choice": "all"})  # "pay all" leaves it out too
    _pay(billed, CARD)
    _run_due(app)  # the pending one resolves: paid once, no credit from a second charge
    assert balances(app, billed) == [0, 0]
    with app.app_context():
        assert db.session.get(Customer, billed.customer_id).credit_minor == 0


def test_autopay_is_cancelled_at_once_when_turned_off_or_when_the_invoice_is_paid(app, billed):
    _, first = _issue_with_autopay(app, billed)
    with app.app_context():
        merchant = db.session.get(Merchant, billed.merchant_id)
        issuing.issue(merchant, db.session.get(Invoice, first), date.today())
        db.session.commit()
        second = build_invoice(merchant, db.session.get(Customer, billed.customer_id),
                               [(db.session.get(Product, billed.product_id), 1)],
                               number="AUTO-B", issue_date=None,
                               due_date=date.today() + timedelta(days=5), status="draft")
        db.session.commit()
        issuing.issue(merchant, second, date.today())
        db.session.commit()
        second_id = second.id
    _pay(billed, {**CARD, "invoice": str(first)})  # paid by hand before its due date
    with app.app_context():
        autopays = {p.idempotency_key: p.status for p in db.session.scalars(
            select(Payment).where(Payment.idempotency_key.like("autopay-%")))}
    assert autopays == {f"autopay-invoice-{first}": "cancelled",
                        f"autopay-invoice-{second_id}": "scheduled"}
    page = billed.client.get(f"{billed.base}/methods").get_data(as_text=True)
    billed.client.post(f"{billed.base}/methods/autopay", data={"csrf_token": csrf_from(page)})
    with app.app_context():
        assert db.session.scalar(select(Payment.status).where(
            Payment.idempotency_key == f"autopay-invoice-{second_id}")) == "cancelled"


def test_a_customer_raised_invoice_is_not_scheduled_for_autopay(app, billed):
    _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[0]), "autopay": "y"})
    with app.app_context():
        from widget_server.profiles.models import SelfServiceProfile

        profile = db.session.get(SelfServiceProfile, billed.profile_id)
        profile.settings = {**profile.settings, "invoice": {"allow_new_invoice": True}}
        db.session.commit()
    from tests.payment_support import hidden_fields

    page = billed.client.get(f"{billed.base}/invoices/new").get_data(as_text=True)
    billed.client.post(f"{billed.base}/invoices/new", data={
        **hidden_fields(page), f"quantity_{billed.product_id}": "1"})
    with app.app_context():
        assert db.session.scalar(select(Payment).where(
            Payment.idempotency_key.like("autopay-%"))) is None


def test_try_again_after_a_decline_keeps_the_invoices_ticked(app, billed):
    response = _pay(billed, {**CARD, "card_number": "4000 0000 0000 0002",
                             "invoice": str(billed.invoice_ids[1])})
    assert f'href="{billed.base}/pay?invoice={billed.invoice_ids[1]}"' in response.get_data(
        as_text=True)


def test_a_rate_limited_widget_page_leads_back_to_sign_in(app, billed):
    from widget_server.core.extensions import limiter

    for base in (billed.base, billed.standalone):  # embedded and standalone pages alike
        client = app.test_client()
        token = csrf_from(client.get(f"{base}/login").get_data(as_text=True))
        limiter.enabled = True
        try:
            for _ in range(25):
                response = client.post(f"{base}/login", data={
                    "csrf_token": token, "login": "nobody", "password": "wrong-password"})
                if response.status_code == 429:
                    break
        finally:
            limiter.enabled = False
            limiter.reset()
        assert response.status_code == 429
        assert f'href="{base}/login">Back to sign-in' in response.get_data(as_text=True)


def test_every_wrong_card_field_is_reported_at_once(app, billed):
    response = _pay(billed, {**CARD, "card_number": "1234", "expiry": "13/20", "cvc": "1",
                             "invoice": str(billed.invoice_ids[0])})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    for field in ("card_number", "expiry", "cvc"):
        assert f'id="{field}-error"' in html, field
    ach = _pay(billed, {"method": "ach", "routing_number": "1", "account_number": "x",
                        "invoice": str(billed.invoice_ids[0])})
    assert 'id="routing_number-error"' in ach.get_data(as_text=True)
    assert 'id="account_number-error"' in ach.get_data(as_text=True)


def test_a_date_the_customer_chooses_replaces_the_autopay_of_that_invoice(app, billed):
    """#18 defect 5: autopay and a hand-scheduled payment both stood for one invoice (two
    "Scheduled" rows, two charges). One invoice, at most one scheduled payment."""
    _, invoice_id = _issue_with_autopay(app, billed)
    with app.app_context():
        issuing.issue(db.session.get(Merchant, billed.merchant_id),
                      db.session.get(Invoice, invoice_id), date.today())
        db.session.commit()
    set_payment(app, billed, {"edit_effective_date": True})
    later = (date.today() + timedelta(days=5)).isoformat()
    chosen = _pay(billed, {**CARD, "invoice": str(invoice_id), "payment_date": later})
    assert chosen.status_code == 200
    assert "replaces the autopay payment" in chosen.get_data(as_text=True)
    with app.app_context():
        scheduled = db.session.scalars(select(Payment).where(
            Payment.status == "scheduled")).all()
        assert [(p.source, p.scheduled_for.isoformat()) for p in scheduled] == [
            ("schedule", later)]
        autopay = db.session.scalar(select(Payment).where(Payment.source == "autopay"))
        assert autopay.status == "cancelled" and "Replaced" in autopay.failure_message
    again = _pay(billed, {**CARD, "invoice": str(invoice_id), "payment_date": later})
    assert again.status_code == 409 and "already scheduled" in again.get_data(as_text=True)
    history = billed.client.get(f"{billed.base}/payments").get_data(as_text=True)
    assert history.count("Scheduled") == 1
