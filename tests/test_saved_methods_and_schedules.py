"""Saved methods, autopay, payment history, scheduled payments and pending payments resolved
by the worker (W-3, W-4, P-2 Credit Card/ACH Mode and Edit Effective Date, P-8)."""
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_from
from tests.payment_support import CARD, balances, pay_form, set_payment
from widget_server.billing import issuing, methods
from widget_server.billing.invoices import build_invoice
from widget_server.billing.models import Invoice, Payment, PaymentMethod
from widget_server.catalogue.models import Product
from widget_server.core.extensions import db
from widget_server.customers.models import Customer
from widget_server.jobs import queue
from widget_server.jobs.models import Job
from widget_server.notifications.models import EmailMessage
from widget_server.tenancy.models import Merchant

LATER = datetime.now(UTC) + timedelta(days=400)


def run_due(app, now=None) -> int:
    with app.app_context():
        return queue.run_due(now)


def _pay(p, data, query=""):
    return p.client.post(f"{p.base}/pay", data={**pay_form(p, query), **data})


def _one(app, model, **where):
    with app.app_context():
        return db.session.scalars(select(model).filter_by(**where)).all()


def _customer(app, p) -> Customer:
    with app.app_context():
        return db.session.get(Customer, p.customer_id)


def test_a_saved_card_is_offered_and_reused_without_typing_it_again(app, billed):
    first = _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[0]), "save_method": "y"})
    assert first.status_code == 200
    [saved] = _one(app, PaymentMethod)
    assert (saved.label, saved.expires, saved.is_default) == ("Visa •••• 4242", "12/39", True)
    page = billed.client.get(f"{billed.base}/pay").get_data(as_text=True)
    assert f'value="saved-{saved.id}"' in page and "Visa •••• 4242 (expires 12/39)" in page
    second = _pay(billed, {"method": f"saved-{saved.id}",
                           "invoice": str(billed.invoice_ids[1])})
    assert "Thank you" in second.get_data(as_text=True)
    assert balances(app, billed) == [0, 0]
    assert len(_one(app, PaymentMethod)) == 1


def test_a_method_is_saved_only_when_asked_and_never_with_card_data(app, billed):
    _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[0])})
    assert _one(app, PaymentMethod) == []
    _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[1]), "save_method": "y"})
    [saved] = _one(app, PaymentMethod)
    assert "4242424242424242" not in saved.token and "123" not in saved.token.split(":")[-1]
    with app.app_context():
        assert all(p.method_token == "" for p in db.session.scalars(select(Payment)))


def test_a_declined_card_is_not_saved(app, billed):
    _pay(billed, {**CARD, "card_number": "4000 0000 0000 0002", "save_method": "y",
                  "invoice": str(billed.invoice_ids[0])})
    assert _one(app, PaymentMethod) == []


def test_no_save_mode_offers_no_saving_and_refuses_it_crafted(app, billed):
    _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[0]), "save_method": "y"})
    set_payment(app, billed, {"card_ach_mode": "no_save"})
    page = billed.client.get(f"{billed.base}/pay").get_data(as_text=True)
    assert "saved-" not in page and 'name="save_method"' not in page
    response = _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[1]), "save_method": "y"})
    assert response.status_code == 400
    assert "Saving a payment method is not offered" in response.get_data(as_text=True)
    assert balances(app, billed) == [0, 10000]
    [saved] = _one(app, PaymentMethod)
    crafted = _pay(billed, {"method": f"saved-{saved.id}",
                            "invoice": str(billed.invoice_ids[1])})
    assert crafted.status_code == 400 and balances(app, billed) == [0, 10000]


def test_forced_autopay_keeps_the_method_and_turns_autopay_on(app, billed):
    set_payment(app, billed, {"card_ach_mode": "force_autopay"})
    page = billed.client.get(f"{billed.base}/pay").get_data(as_text=True)
    assert 'id="autopay-notice"' in page and 'name="save_method"' not in page
    _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[0])})
    [saved] = _one(app, PaymentMethod)
    assert saved.is_default and _customer(app, billed).autopay is True
    methods_page = billed.client.get(f"{billed.base}/methods").get_data(as_text=True)
    assert "Autopay is required" in methods_page
    csrf = csrf_from(methods_page)
    assert billed.client.post(f"{billed.base}/methods/autopay",
                              data={"csrf_token": csrf}).status_code == 403
    assert _customer(app, billed).autopay is True


def test_methods_page_removes_and_sets_default_only_the_customers_own(app, billed, portal):
    for number in ("4242 4242 4242 4242", "4000 0000 0000 0002"):
        with app.app_context():  # two cards on file: one from each payment
            merchant = db.session.get(Merchant, billed.merchant_id)
            customer = db.session.get(Customer, billed.customer_id)
            from widget_server.billing.gateways import tokenize_card
            methods.keep(merchant, customer, tokenize_card(number, "10/38", "123", date.today()))
            db.session.commit()
    first, second = sorted(_one(app, PaymentMethod), key=lambda m: m.id)
    assert first.is_default and not second.is_default
    page = billed.client.get(f"{billed.base}/methods").get_data(as_text=True)
    csrf = csrf_from(page)
    assert billed.client.post(f"{billed.base}/methods/{second.id}/default",
                              data={"csrf_token": csrf}).status_code == 302
    assert {m.id: m.is_default for m in _one(app, PaymentMethod)} == {first.id: False,
                                                                       second.id: True}
    # another customer of another merchant cannot touch them
    other = portal("other", username="ola", emails=("ola@example.test",))
    from tests.conftest import widget_login
    intruder = app.test_client()
    widget_login(intruder, other.base, "ola", other.password)
    csrf_other = csrf_from(intruder.get(f"{other.base}/methods").get_data(as_text=True))
    assert intruder.post(f"{other.base}/methods/{second.id}/remove",
                         data={"csrf_token": csrf_other}).status_code == 404
    assert len(_one(app, PaymentMethod)) == 2
    # without the CSRF token: refused (the widget renews the session and asks again)
    billed.client.post(f"{billed.base}/methods/{second.id}/remove")
    assert len(_one(app, PaymentMethod)) == 2
    # removing the default promotes the other one
    assert billed.client.post(f"{billed.base}/methods/{second.id}/remove",
                              data={"csrf_token": csrf}).status_code == 302
    [left] = _one(app, PaymentMethod)
    assert left.id == first.id and left.is_default


def test_autopay_pays_a_new_invoice_on_its_due_date(app, billed):
    _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[0]), "save_method": "y",
                  "autopay": "y"})
    assert _customer(app, billed).autopay is True
    with app.app_context():
        merchant = db.session.get(Merchant, billed.merchant_id)
        customer = db.session.get(Customer, billed.customer_id)
        product = db.session.get(Product, billed.product_id)
        draft = build_invoice(merchant, customer, [(product, 3)], number="AUTO-1",
                              issue_date=None, due_date=date.today() + timedelta(days=10),
                              status="draft")
        db.session.commit()
        issuing.issue(merchant, draft, date.today())
        db.session.commit()
        invoice_id = draft.id
        [scheduled] = db.session.scalars(select(Payment).where(Payment.status == "scheduled"))
        assert scheduled.scheduled_for == date.today() + timedelta(days=10)
    run_due(app)  # not due yet
    assert _one(app, Payment, status="scheduled")
    run_due(app, LATER)
    with app.app_context():
        assert db.session.get(Invoice, invoice_id).status == "paid"
        payment = db.session.scalar(select(Payment).where(
            Payment.idempotency_key == f"autopay-invoice-{invoice_id}"))
        assert (payment.status, payment.amount_minor, payment.method_label) == (
            "succeeded", 15000, "Visa •••• 4242")


def test_autopay_off_cancels_the_scheduled_autopay(app, billed):
    _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[0]), "autopay": "y"})
    with app.app_context():
        merchant = db.session.get(Merchant, billed.merchant_id)
        customer = db.session.get(Customer, billed.customer_id)
        draft = build_invoice(merchant, customer, [(db.session.get(Product, billed.product_id),
                                                    1)], number="AUTO-2", issue_date=None,
                              due_date=date.today(), status="draft")
        db.session.commit()
        issuing.issue(merchant, draft, date.today())
        db.session.commit()
    page = billed.client.get(f"{billed.base}/methods").get_data(as_text=True)
    assert "Autopay is <strong>on</strong>" in page
    billed.client.post(f"{billed.base}/methods/autopay", data={"csrf_token": csrf_from(page)})
    assert _customer(app, billed).autopay is False
    run_due(app, LATER)
    [autopay] = _one(app, Payment, method_label="Autopay")
    assert autopay.status == "cancelled"


def test_edit_effective_date_schedules_and_the_worker_pays_on_that_date(app, billed):
    later = date.today() + timedelta(days=5)
    data = {**CARD, "invoice": str(billed.invoice_ids[1]), "payment_date": later.isoformat()}
    refused = _pay(billed, data)  # the switch is off: a crafted date is refused (P-8)
    assert refused.status_code == 400 and "cannot be scheduled" in refused.get_data(
        as_text=True)
    set_payment(app, billed, {"edit_effective_date": True})
    assert 'name="payment_date"' in billed.client.get(f"{billed.base}/pay").get_data(
        as_text=True)
    past = _pay(billed, {**data, "payment_date": (date.today() - timedelta(days=1)).isoformat()})
    assert past.status_code == 400 and "today or a later date" in past.get_data(as_text=True)
    response = _pay(billed, data)
    assert "Payment scheduled" in response.get_data(as_text=True)
    assert 'data-event' not in response.get_data(as_text=True)
    assert balances(app, billed) == [5000, 10000]  # nothing moves before the date
    with app.app_context():
        job = db.session.scalar(select(Job).where(Job.kind == "payments.scheduled"))
        assert job.run_at.date() >= later - timedelta(days=1)
    assert run_due(app) == 0 and balances(app, billed) == [5000, 10000]
    run_due(app, LATER)
    assert balances(app, billed) == [5000, 0]
    [payment] = _one(app, Payment)
    assert payment.status == "succeeded" and payment.method_token == ""
    assert _one(app, EmailMessage, email_type="payment_receipt")


def test_a_scheduled_balance_payment_charges_only_what_is_still_due(app, billed):
    set_payment(app, billed, {"edit_effective_date": True})
    later = (date.today() + timedelta(days=3)).isoformat()
    _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[1]), "payment_date": later})
    # meanwhile the customer pays the same invoice now
    _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[1])})
    run_due(app, LATER)
    statuses = sorted((p.status, p.amount_minor) for p in _one(app, Payment))
    assert statuses == [("cancelled", 10000), ("succeeded", 10000)]
    with app.app_context():
        assert db.session.get(Customer, billed.customer_id).credit_minor == 0


def test_cancel_a_scheduled_payment_from_the_history(app, billed):
    set_payment(app, billed, {"edit_effective_date": True})
    later = date.today() + timedelta(days=3)
    _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[0]),
                  "payment_date": later.isoformat()})
    history = billed.client.get(f"{billed.base}/payments").get_data(as_text=True)
    assert "Scheduled" in history
    action = re.search(r'action="([^"]+/cancel)"', history)[1]
    billed.client.post(action, data={"csrf_token": csrf_from(history)})
    run_due(app, LATER)
    [payment] = _one(app, Payment)
    assert payment.status == "cancelled" and balances(app, billed) == [5000, 10000]
    assert "Cancelled" in billed.client.get(f"{billed.base}/payments").get_data(as_text=True)


def test_removing_a_method_cancels_payments_scheduled_with_it(app, billed):
    set_payment(app, billed, {"edit_effective_date": True})
    _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[0]), "save_method": "y"})
    [saved] = _one(app, PaymentMethod)
    later = (date.today() + timedelta(days=3)).isoformat()
    _pay(billed, {"method": f"saved-{saved.id}", "invoice": str(billed.invoice_ids[1]),
                  "payment_date": later})
    page = billed.client.get(f"{billed.base}/methods").get_data(as_text=True)
    billed.client.post(f"{billed.base}/methods/{saved.id}/remove",
                       data={"csrf_token": csrf_from(page)})
    run_due(app, LATER)
    assert balances(app, billed) == [0, 10000]
    assert sorted(p.status for p in _one(app, Payment)) == ["cancelled", "succeeded"]


def test_a_timed_out_payment_stays_pending_then_the_worker_resolves_it_once(app, billed):
    response = _pay(billed, {**CARD, "card_number": "4000 0000 0000 0119",
                             "invoice": str(billed.invoice_ids[0])})
    assert "Payment pending" in response.get_data(as_text=True)
    assert balances(app, billed) == [5000, 10000]
    [payment] = _one(app, Payment)
    assert payment.status == "pending" and payment.method_token  # kept to ask again
    run_due(app, LATER)
    assert balances(app, billed) == [0, 10000]
    [payment] = _one(app, Payment)
    assert payment.status == "succeeded" and payment.method_token == ""
    with app.app_context():
        assert db.session.scalar(select(func.count(EmailMessage.id)).where(
            EmailMessage.email_type == "payment_receipt")) == len(billed.emails)
    run_due(app, LATER + timedelta(days=1))  # nothing left to do: no second charge or receipt
    assert balances(app, billed) == [0, 10000]


def test_payment_history_follows_show_payments(app, billed):
    _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[0])})
    _pay(billed, {**CARD, "card_number": "4000 0000 0000 0002",
                  "invoice": str(billed.invoice_ids[1])})
    page = billed.client.get(f"{billed.base}/payments").get_data(as_text=True)
    assert page.count("Visa •••• ") == 2 and "Paid" in page and "Failed" in page
    assert "The card was declined" in page
    set_payment(app, billed, {"show_payments": False})
    assert billed.client.get(f"{billed.base}/payments").status_code == 403
    overview = billed.client.get(f"{billed.base}/").get_data(as_text=True)
    assert f'href="{billed.base}/payments"' not in overview


def test_payment_history_query_count_is_constant(app, billed, count_queries):
    def measure():
        with count_queries() as counter:
            assert billed.client.get(f"{billed.base}/payments").status_code == 200
        return counter.count

    _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[0])})
    one = measure()
    for _ in range(5):
        _pay(billed, {**CARD, "card_number": "4000 0000 0000 0002",
                      "invoice": str(billed.invoice_ids[1])})
    assert measure() == one


def test_the_admin_sees_a_customers_payments_pending_ones_included(app, billed, browser_like):
    _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[0])})
    _pay(billed, {**CARD, "card_number": "4000 0000 0000 0119",
                  "invoice": str(billed.invoice_ids[1])})
    browser_like.login("owner@acme.test", "owner-pass-123")
    page = browser_like.client.get(f"/admin/customers/{billed.customer_id}").get_data(
        as_text=True)
    listed = re.search(r'<ul id="customer-payments">(.*?)</ul>', page, re.S)[1]
    assert listed.count("<li>") == 2
    # statuses in words (#24 item 5)
    assert "Pending" in listed and "Succeeded" in listed and "Visa •••• 0119" in listed


def test_no_card_number_or_cvc_is_stored_or_logged(app, billed, caplog):
    caplog.set_level("DEBUG")
    number, cvc = "4242424242424242", "987"
    _pay(billed, {**CARD, "card_number": number, "cvc": cvc, "save_method": "y",
                  "invoice": str(billed.invoice_ids[0])})
    _pay(billed, {**CARD, "card_number": "4000000000000119", "cvc": cvc,
                  "invoice": str(billed.invoice_ids[1])})  # pending: its token is kept
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(table.select()):
                text = " ".join(str(v) for v in row)
                assert number not in text and "4000000000000119" not in text, table.name
                assert f":{cvc}" not in text and f"{cvc}:" not in text, table.name
    assert number not in caplog.text and "4000000000000119" not in caplog.text


def test_every_billing_page_renders_in_the_classic_theme(app, billed):
    from widget_server.profiles.models import SelfServiceProfile

    with app.app_context():
        profile = db.session.get(SelfServiceProfile, billed.profile_id)
        profile.settings = {**profile.settings, "global": {"theme": "classic"},
                            "invoice": {"allow_new_invoice": True}}
        db.session.commit()
    for path in ("/pay", "/payments", "/methods", "/invoices", "/invoices/new", "/"):
        response = billed.client.get(f"{billed.base}{path}", follow_redirects=True)
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and 'class="masthead"' in page, path
        assert 'class="tabs"' in page and ">Payment methods</a>" in page, path


def test_removing_a_method_says_what_changed_with_it(app, billed):
    _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[0]), "autopay": "y"})
    _pay(billed, {"method": "ach", "routing_number": "110000000",
                  "account_number": "000123456789", "invoice": str(billed.invoice_ids[1]),
                  "save_method": "y"})
    card, bank = sorted(_one(app, PaymentMethod), key=lambda m: m.id)
    page = billed.client.get(f"{billed.base}/methods").get_data(as_text=True)
    first = billed.client.post(f"{billed.base}/methods/{card.id}/remove",
                               data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "Bank account •••• 6789 is now your default, used for autopay." in first.get_data(
        as_text=True)
    last = billed.client.post(f"{billed.base}/methods/{bank.id}/remove",
                              data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "Autopay is off: no payment method is left." in last.get_data(as_text=True)
    assert _customer(app, billed).autopay is False


def test_a_scheduled_payment_that_fails_tells_the_customer(app, billed):
    set_payment(app, billed, {"edit_effective_date": True})
    later = date.today() + timedelta(days=2)
    _pay(billed, {**CARD, "card_number": "4000 0000 0000 9995",
                  "invoice": str(billed.invoice_ids[0]), "payment_date": later.isoformat()})
    assert _one(app, EmailMessage, email_type="payment_failed") == []  # not before the day
    run_due(app, LATER)
    [payment] = _one(app, Payment)
    assert payment.status == "failed" and balances(app, billed) == [5000, 10000]
    notices = _one(app, EmailMessage, email_type="payment_failed")
    assert sorted(m.to_address for m in notices) == sorted(billed.emails)
    assert "insufficient funds" in notices[0].text_body and "Nothing was charged" in \
        notices[0].text_body
    # a payment that fails while the customer watches sends nothing: they saw it
    _pay(billed, {**CARD, "card_number": "4000 0000 0000 0002",
                  "invoice": str(billed.invoice_ids[1])})
    assert len(_one(app, EmailMessage, email_type="payment_failed")) == len(billed.emails)


def test_account_credit_pays_the_next_invoice_first(app, billed):
    set_payment(app, billed, {"payment_amount": "any"})
    _pay(billed, {**CARD, "amount": "80.00", "invoice": str(billed.invoice_ids[0])})
    assert _customer(app, billed).credit_minor == 3000  # 80.00 for a 50.00 invoice
    with app.app_context():
        merchant = db.session.get(Merchant, billed.merchant_id)
        customer = db.session.get(Customer, billed.customer_id)
        product = db.session.get(Product, billed.product_id)
        drafts = [build_invoice(merchant, customer, [(product, 1)], number=f"CR-{n}",
                                issue_date=None, due_date=None, status="draft")
                  for n in range(2)]
        db.session.commit()
        for draft in drafts:
            issuing.issue(merchant, draft, date.today())
            db.session.commit()
        assert [(d.balance_minor, d.status) for d in drafts] == [(2000, "issued"),
                                                                  (5000, "issued")]
        email = db.session.scalar(select(EmailMessage.text_body).where(
            EmailMessage.email_type == "invoice_issued").order_by(EmailMessage.id))
        assert "$20.00" in email  # what is left to pay
    assert _customer(app, billed).credit_minor == 0
    history = billed.client.get(f"{billed.base}/payments").get_data(as_text=True)
    assert "Account credit" in history and "$30.00" in history


def test_the_payment_date_is_typed_today_to_a_year(app, billed):
    """Issue #20: a text input in the merchant's format (the browser's date picker followed the
    browser's locale), so the window is the server's to keep: beyond a year is refused."""
    set_payment(app, billed, {"edit_effective_date": True})
    page = billed.client.get(f"{billed.base}/pay").get_data(as_text=True)
    field = re.search(r'<input[^>]*name="payment_date"[^>]*>', page)[0]
    assert 'type="text"' in field and f'value="{date.today():%m/%d/%Y}"' in field
    far = _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[1]),
                        "payment_date": (date.today() + timedelta(days=366)).isoformat()})
    assert "Choose a date within a year." in far.get_data(as_text=True)


def _hold_claim(app, p, invoice_id) -> int:
    """A payment of the invoice pending at the gateway with no answer yet (a bank debit, say):
    it holds the invoice's claim."""
    with app.app_context():
        pending = Payment(merchant_id=p.merchant_id, customer_id=p.customer_id,
                          amount_minor=100, currency="USD", status="pending", method="ach",
                          idempotency_key="held", plan={"invoice_ids": [invoice_id]})
        db.session.add(pending)
        db.session.flush()
        db.session.get(Invoice, invoice_id).payment_claim_id = pending.id
        db.session.commit()
        return pending.id


def test_a_scheduled_payment_waits_for_one_in_flight_then_fails_in_the_open(app, billed):
    """Review of #18: blocked by another payment's claim, a scheduled payment used to spend its
    job's retries and stay "scheduled" forever. It waits (new jobs, no retries spent), and
    after a day fails with the reason and the Payment Failed email."""
    set_payment(app, billed, {"edit_effective_date": True})
    later = (date.today() + timedelta(days=5)).isoformat()
    _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[1]), "payment_date": later})
    _hold_claim(app, billed, billed.invoice_ids[1])
    run_due(app, LATER)
    [scheduled] = _one(app, Payment, source="schedule")
    assert scheduled.status == "failed" and "still being processed" in \
        scheduled.failure_message
    jobs = _one(app, Job, kind="payments.scheduled")
    assert len(jobs) == 97 and {j.status for j in jobs} == {"done"}  # waited, never failed
    assert balances(app, billed) == [5000, 10000]
    assert _one(app, EmailMessage, email_type="payment_failed")


def test_an_invoice_with_a_payment_in_flight_cannot_be_voided(app, billed):
    """Review of #18: voided meanwhile, the pending charge became account credit."""
    from widget_server.billing import invoices as billing
    from widget_server.core.domain import DomainError

    _hold_claim(app, billed, billed.invoice_ids[0])
    with app.app_context():
        invoice = db.session.get(Invoice, billed.invoice_ids[0])
        invoice.balance_minor = invoice.total_minor
        with pytest.raises(DomainError) as refused:
            billing.void(invoice)
        assert refused.value.status == 409 and "being processed" in refused.value.message
        db.session.rollback()
        assert db.session.get(Invoice, billed.invoice_ids[0]).status == "issued"


def test_paying_now_cancels_what_was_scheduled_for_that_invoice(app, billed):
    """Browser QA of #18: an amount scheduled for the 20th, then the invoice paid now: the
    scheduled payment stayed and would have charged again on the day."""
    set_payment(app, billed, {"edit_effective_date": True, "payment_amount": "any"})
    later = (date.today() + timedelta(days=5)).isoformat()
    invoice = str(billed.invoice_ids[1])
    _pay(billed, {**CARD, "invoice": invoice, "payment_date": later, "amount": "100.00"})
    assert _pay(billed, {**CARD, "invoice": invoice}).status_code == 200  # now, in full
    [scheduled] = _one(app, Payment, source="schedule")
    assert scheduled.status == "cancelled" and scheduled.failure_message == \
        "The invoice was paid."
    run_due(app, LATER)
    assert balances(app, billed) == [5000, 0]
    assert _customer(app, billed).credit_minor == 0  # charged once


def test_cancelling_a_date_that_replaced_autopay_brings_the_autopay_back(app, billed):
    """Browser QA of #18: both were cancelled and nothing would pay the invoice while the
    portal still said autopay was on."""
    _pay(billed, {**CARD, "invoice": str(billed.invoice_ids[0]), "autopay": "y"})
    with app.app_context():
        merchant = db.session.get(Merchant, billed.merchant_id)
        draft = build_invoice(merchant, db.session.get(Customer, billed.customer_id),
                              [(db.session.get(Product, billed.product_id), 2)],
                              number="AUTO-9", issue_date=None,
                              due_date=date.today() + timedelta(days=10), status="draft")
        issuing.issue(merchant, draft, date.today())
        db.session.commit()
        invoice_id = draft.id
    set_payment(app, billed, {"edit_effective_date": True})
    later = (date.today() + timedelta(days=3)).isoformat()
    _pay(billed, {**CARD, "invoice": str(invoice_id), "payment_date": later})
    [chosen] = _one(app, Payment, source="schedule")
    page = billed.client.get(f"{billed.base}/payments").get_data(as_text=True)
    answer = billed.client.post(f"{billed.base}/payments/{chosen.id}/cancel",
                                data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "Autopay pays the invoice on its due date again." in answer.get_data(as_text=True)
    [autopay] = _one(app, Payment, source="autopay")
    assert autopay.status == "scheduled"
    run_due(app, LATER)
    with app.app_context():
        assert db.session.get(Invoice, invoice_id).status == "paid"
