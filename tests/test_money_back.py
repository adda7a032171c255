"""Money going back (#24 item 3, T-7): refunds through the payment's gateway (partial, the rest,
then refused; the same key refunds once, even posted at once), credit notes that never take a
balance below zero (the rest becomes account credit), void behind a confirmation, and offline
payments recorded through the one payment path with their receipt."""
import re
import threading
from datetime import date, timedelta
from urllib.parse import parse_qsl

import pytest
import requests
import responses

from tests.conftest import csrf_from
from widget_server.billing import credit_notes, payments, refunds
from widget_server.billing.gateways import MethodToken
from widget_server.billing.invoices import build_invoice
from widget_server.billing.models import CreditNote, Invoice, Payment, Refund
from widget_server.catalogue.models import Product
from widget_server.core.domain import DomainError
from widget_server.core.extensions import db
from widget_server.customers.models import Customer, CustomerEmail
from widget_server.jobs import queue
from widget_server.notifications.models import EmailMessage
from widget_server.tenancy.models import Merchant

VISA = MethodToken("sandbox:succeeded:4242", "Visa •••• 4242")


def make_invoices(app, merchant_id, totals=(10000,), *, customer_id=None):
    """A customer (or the given one) with issued invoices of these totals; returns ids."""
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        if customer_id is None:
            customer = Customer(merchant_id=merchant_id, first_name="Jane", last_name="Doe",
                                custom_fields={})
            customer.emails = [CustomerEmail(merchant_id=merchant_id,
                                             address="jane@example.test", position=0)]
            db.session.add(customer)
        else:
            customer = db.session.get(Customer, customer_id)
        product = Product(merchant_id=merchant_id, sku=f"S{len(totals)}{totals[0]}",
                          name="Service", unit_price_minor=1, currency=merchant.currency)
        db.session.add(product)
        db.session.flush()
        ids = []
        for n, total in enumerate(totals):
            invoice = build_invoice(merchant, customer, [(product, total)],
                                    number=f"INV-{customer.id}-{n}-{total}",
                                    issue_date=date.today(),
                                    due_date=date.today() + timedelta(days=n))
            db.session.flush()
            ids.append(invoice.id)
        db.session.commit()
        return customer.id, ids


def paid_payment(app, merchant_id, total=10000, key="c:first"):
    """A card payment of `total` through the sandbox that paid one invoice in full."""
    customer_id, (invoice_id,) = make_invoices(app, merchant_id, (total,))
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        customer = db.session.get(Customer, customer_id)
        payment = payments.pay(merchant, customer, [db.session.get(Invoice, invoice_id)], total,
                               method=VISA, idempotency_key=key)
        db.session.commit()
        assert payment.status == "succeeded"
        return customer_id, invoice_id, payment.id


def _refund_page(owner_client, payment_id):
    page = owner_client.client.get(f"/admin/payments/{payment_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return {"csrf_token": csrf_from(html),
            "key": re.search(r'name="key" type="hidden" value="([^"]+)"', html).group(1)}


def post_refund(owner_client, payment_id, amount, reason="Returned goods"):
    form = _refund_page(owner_client, payment_id)
    return owner_client.client.post(f"/admin/payments/{payment_id}/refund", data={
        **form, "amount": amount, "reason": reason})


def test_a_partial_refund_then_the_rest_then_a_third_is_refused(app, owner_client):
    _, invoice_id, payment_id = paid_payment(app, owner_client.merchant_id)

    first = post_refund(owner_client, payment_id, "40.00")
    assert first.status_code == 302
    page = owner_client.client.get(f"/admin/payments/{payment_id}").get_data(as_text=True)
    assert "REF-00001" in page and "$60.00" in page  # what is left to refund

    rest = post_refund(owner_client, payment_id, "")  # empty: everything still refundable
    assert rest.status_code == 302
    page = owner_client.client.get(f"/admin/payments/{payment_id}").get_data(as_text=True)
    assert "REF-00002" in page and "Up to" not in page  # no refund form any more

    # a third (a form loaded before, say) is refused next to its field, nothing sent
    with app.app_context():
        merchant = db.session.get(Merchant, owner_client.merchant_id)
        payment = db.session.get(Payment, payment_id)
        with pytest.raises(DomainError) as refused:
            refunds.refund(merchant, payment, 1, reason="", idempotency_key="r:third")
        assert refused.value.field == "amount"
        rows = db.session.query(Refund).order_by(Refund.id).all()
        assert [(r.number, r.amount_minor, r.status) for r in rows] == [
            ("REF-00001", 4000, "succeeded"), ("REF-00002", 6000, "succeeded")]
        assert rows[0].reference.startswith("sbx_re_")
        assert payment.refunded_minor == 10000 and payment.refundable_minor == 0
        # the model: the invoice stays paid, the refund is recorded against the payment
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.status, invoice.balance_minor) == ("paid", 0)
        assert db.session.get(Customer, payment.customer_id).credit_minor == 0


def test_a_refund_above_what_is_left_is_refused_next_to_the_amount(app, owner_client):
    _, _, payment_id = paid_payment(app, owner_client.merchant_id)
    answer = post_refund(owner_client, payment_id, "100.01")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert re.search(r'id="amount-error">At most \$100.00 of this payment can still be '
                     r'refunded.<', html)
    assert post_refund(owner_client, payment_id, "abc").status_code == 400
    with app.app_context():
        assert db.session.query(Refund).count() == 0
        assert db.session.get(Payment, payment_id).refunded_minor == 0


def test_the_same_refund_form_posted_twice_refunds_once(app, owner_client, monkeypatch):
    _, _, payment_id = paid_payment(app, owner_client.merchant_id)
    form = {**_refund_page(owner_client, payment_id), "amount": "25.00", "reason": "x"}
    for _ in range(2):
        answer = owner_client.client.post(f"/admin/payments/{payment_id}/refund", data=form)
        assert answer.status_code == 302
    with app.app_context():
        assert db.session.query(Refund).count() == 1
        assert db.session.get(Payment, payment_id).refunded_minor == 2500


class AdminTab:
    """An admin's browser over real HTTP (cookies kept by hand, as tests/test_checkout_race)."""

    def __init__(self, base):
        self.base, self.http, self.cookies = base, requests.Session(), {}

    def _keep(self, response):
        for name, value in re.findall(r"(?:^|, )([\w-]+)=([^;]*);",
                                      response.headers.get("Set-Cookie", "")):
            if value:
                self.cookies[name] = value
        return response

    def _headers(self):
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def get(self, path):
        return self._keep(self.http.get(self.base + path, headers=self._headers(),
                                        allow_redirects=False, timeout=20))

    def post(self, path, data):
        return self._keep(self.http.post(self.base + path, data=data, headers=self._headers(),
                                         allow_redirects=False, timeout=30))


def test_one_refund_form_posted_at_once_from_many_tabs_refunds_once(app, make_merchant,
                                                                    live_server, monkeypatch):
    """Real concurrent requests (threaded live server; SQLite here, PostgreSQL in CI's pass):
    eight posts of one form, behind a barrier, make one refund and one gateway call."""
    from widget_server.billing import gateways

    merchant_id, email = make_merchant("acme")
    _, _, payment_id = paid_payment(app, merchant_id)
    calls, lock = [], threading.Lock()
    real = gateways.SandboxGateway.refund

    def counted(self, request):
        with lock:
            calls.append(request.idempotency_key)
        return real(self, request)

    monkeypatch.setattr(gateways.SandboxGateway, "refund", counted)
    tab = AdminTab(live_server + "/admin")
    login = tab.get("/login")
    assert tab.post("/login", {"csrf_token": csrf_from(login.text), "email": email,
                               "password": "owner-pass-123"}).status_code == 302
    page = tab.get(f"/payments/{payment_id}")
    assert page.status_code == 200, page.text[:300]
    form = {"csrf_token": csrf_from(page.text), "amount": "30.00", "reason": "dup",
            "key": re.search(r'name="key" type="hidden" value="([^"]+)"', page.text).group(1)}
    barrier, answers = threading.Barrier(8), []

    def post():
        barrier.wait(timeout=10)
        answers.append(tab.post(f"/payments/{payment_id}/refund", form).status_code)

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert answers == [302] * 8, answers
    assert len(calls) == 1
    with app.app_context():
        assert db.session.query(Refund).count() == 1
        assert db.session.get(Payment, payment_id).refunded_minor == 3000


def test_a_stripe_refund_is_post_v1_refunds_with_the_intent_and_our_key(app, make_merchant,
                                                                         monkeypatch):
    from tests.test_stripe_gateway import ACCOUNT, PLATFORM_KEY, connect

    monkeypatch.setitem(app.config, "PAYMENT_GATEWAY", "stripe")
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", PLATFORM_KEY)
    merchant_id, _ = make_merchant("acme")
    connect(app, merchant_id)
    customer_id, _ = make_invoices(app, merchant_id, (5000,))
    with app.app_context():
        payment = Payment(merchant_id=merchant_id, customer_id=customer_id, amount_minor=5000,
                          currency="USD", status="succeeded", reference="pi_3Paid",
                          idempotency_key="c:stripe", plan={"gateway": "stripe"}, number=1)
        db.session.add(payment)
        db.session.commit()
        payment_id = payment.id
    with responses.RequestsMock(assert_all_requests_are_fired=True) as api:
        api.post("https://api.stripe.com/v1/refunds",
                 json={"id": "re_1Back", "object": "refund", "status": "succeeded",
                       "amount": 1500, "payment_intent": "pi_3Paid"})
        api.post("https://api.stripe.com/v1/refunds", status=400, json={"error": {
            "type": "invalid_request_error", "message": "Charge has been refunded."}})
        with app.app_context():
            merchant = db.session.get(Merchant, merchant_id)
            row = refunds.refund(merchant, db.session.get(Payment, payment_id), 1500,
                                 reason="late delivery", idempotency_key="r:stripe-1")
            db.session.commit()
            assert (row.status, row.reference, row.number) == ("succeeded", "re_1Back",
                                                                "REF-00001")
            failed = refunds.refund(merchant, db.session.get(Payment, payment_id), 500,
                                    reason="", idempotency_key="r:stripe-2")
            db.session.commit()
            assert failed.status == "failed" and "refunded" in failed.failure_message
            # a failed refund gives its hold back
            assert db.session.get(Payment, payment_id).refunded_minor == 1500
        sent = api.calls[0].request
        assert sent.headers["Idempotency-Key"] == "r:stripe-1"
        assert sent.headers["Stripe-Account"] == ACCOUNT
        body = dict(parse_qsl(sent.body))
        assert body["payment_intent"] == "pi_3Paid" and body["amount"] == "1500"
        assert body["metadata[reason]"] == "late delivery"


def test_account_credit_and_offline_payments_are_not_refunded_through_a_gateway(
        app, make_merchant):
    merchant_id, _ = make_merchant("acme")
    customer_id, _ = make_invoices(app, merchant_id, (5000,))
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        payment = Payment(merchant_id=merchant_id, customer_id=customer_id, amount_minor=5000,
                          currency="USD", status="succeeded", source="offline",
                          method="cash", idempotency_key="o:x")
        db.session.add(payment)
        db.session.flush()
        with pytest.raises(DomainError, match="not made through a payment provider"):
            refunds.refund(merchant, payment, 100, reason="", idempotency_key="r:x")


# --- credit notes ----------------------------------------------------------------------------

def _credit_form(owner_client, invoice_id, page=""):
    html = owner_client.client.get(f"/admin/invoices/{invoice_id}{page}").get_data(as_text=True)
    return {"csrf_token": csrf_from(html),
            "key": re.search(r'name="key" type="hidden" value="([^"]+)"', html).group(1)}


def test_a_credit_note_lowers_the_balance_never_below_zero_the_rest_is_credit(
        app, owner_client, smtp):
    customer_id, (invoice_id,) = make_invoices(app, owner_client.merchant_id, (10000,))
    with app.app_context():  # 30.00 of it paid already: 70.00 owed
        invoice = db.session.get(Invoice, invoice_id)
        invoice.balance_minor = 7000
        db.session.commit()
    post = owner_client.client.post
    answer = post(f"/admin/invoices/{invoice_id}/credit-notes", data={
        **_credit_form(owner_client, invoice_id), "amount": "20.00", "reason": "Scratched"})
    assert answer.status_code == 302
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.balance_minor, invoice.status, invoice.credited_minor) == (
            5000, "issued", 2000)
    # 80.00 more: 50.00 takes the balance to zero (paid), 30.00 becomes account credit
    answer = post(f"/admin/invoices/{invoice_id}/credit-notes", data={
        **_credit_form(owner_client, invoice_id), "amount": "80.00", "reason": "Cancelled"})
    assert answer.status_code == 302
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.balance_minor, invoice.status, invoice.credited_minor) == (
            0, "paid", 10000)
        assert db.session.get(Customer, customer_id).credit_minor == 3000
        notes = db.session.query(CreditNote).order_by(CreditNote.id).all()
        assert [(n.number, n.applied_minor, n.credit_minor) for n in notes] == [
            ("CN-00001", 2000, 0), ("CN-00002", 5000, 3000)]
    # nothing more to credit: refused next to the amount
    answer = post(f"/admin/invoices/{invoice_id}/credit-notes", data={
        **_credit_form(owner_client, invoice_id, "/credit-notes"), "amount": "0.01",
        "reason": "More"})
    assert answer.status_code == 400
    assert "This invoice is credited in full." in answer.get_data(as_text=True) or \
        "can still be credited" in answer.get_data(as_text=True)
    # no reason: refused next to the reason
    _, (other,) = make_invoices(app, owner_client.merchant_id, (500,))
    answer = post(f"/admin/invoices/{other}/credit-notes", data={
        **_credit_form(owner_client, other), "amount": "1.00", "reason": ""})
    assert answer.status_code == 400 and 'id="reason-error"' in answer.get_data(as_text=True)
    # the Credit Note Issued email, through the outbox, to a real SMTP server
    with app.app_context():
        assert db.session.query(EmailMessage).filter_by(email_type="credit_note_issued") \
            .count() == 2
        queue.run_due()
    subjects = [m["Subject"] for _, m in smtp.messages]
    assert subjects.count("Credit note CN-00002 from Acme") == 1
    body = next(m for _, m in smtp.messages if m["Subject"] == "Credit note CN-00002 from Acme")
    assert "Cancelled" in body.get_body(("plain",)).get_content()
    # its PDF, from the admin
    pdf = owner_client.client.get(f"/admin/credit-notes/{notes[1].id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_a_credit_note_form_posted_twice_credits_once(app, owner_client):
    _, (invoice_id,) = make_invoices(app, owner_client.merchant_id, (10000,))
    form = {**_credit_form(owner_client, invoice_id), "amount": "10.00", "reason": "x"}
    for _ in range(2):
        assert owner_client.client.post(f"/admin/invoices/{invoice_id}/credit-notes",
                                        data=form).status_code == 302
    with app.app_context():
        assert db.session.query(CreditNote).count() == 1
        assert db.session.get(Invoice, invoice_id).balance_minor == 9000


def test_credit_note_tax_is_the_invoice_proportion(app, make_merchant):
    merchant_id, _ = make_merchant("acme")
    _, (invoice_id,) = make_invoices(app, merchant_id, (11900,))
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        line = invoice.lines[0]
        line.tax_rate_bp, line.net_minor, line.tax_minor = 1900, 10000, 1900
        assert credit_notes.tax_share(invoice, 1190) == 190


# --- void ------------------------------------------------------------------------------------

def test_void_asks_first_then_voids_an_unpaid_invoice(app, owner_client):
    _, (invoice_id,) = make_invoices(app, owner_client.merchant_id, (10000,))
    detail = owner_client.client.get(f"/admin/invoices/{invoice_id}").get_data(as_text=True)
    assert f"/admin/invoices/{invoice_id}/void" in detail
    confirm = owner_client.client.get(f"/admin/invoices/{invoice_id}/void")
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "cannot be undone" in html
    assert owner_client.client.post(f"/admin/invoices/{invoice_id}/void").status_code == 400
    answer = owner_client.client.post(f"/admin/invoices/{invoice_id}/void",
                                      data={"csrf_token": csrf_from(html)})
    assert answer.status_code == 302
    with app.app_context():
        assert db.session.get(Invoice, invoice_id).status == "void"


def test_void_is_refused_for_a_paid_invoice(app, owner_client):
    _, invoice_id, _ = paid_payment(app, owner_client.merchant_id)
    html = owner_client.client.get(f"/admin/invoices/{invoice_id}/void").get_data(as_text=True)
    assert "Only drafts and unpaid issued invoices can be voided" in html
    answer = owner_client.client.post(f"/admin/invoices/{invoice_id}/void",
                                      data={"csrf_token": csrf_from(html)},
                                      follow_redirects=True)
    assert "Only drafts and unpaid issued invoices can be voided" in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Invoice, invoice_id).status == "paid"


# --- offline payments ------------------------------------------------------------------------

def test_an_offline_payment_pays_the_ticked_invoices_oldest_first_rest_is_credit(
        app, owner_client, smtp):
    customer_id, ids = make_invoices(app, owner_client.merchant_id, (3000, 5000, 9000))
    url = f"/admin/customers/{customer_id}/payments/new"
    page = owner_client.client.get(f"{url}?invoice={ids[0]}&invoice={ids[1]}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Record a payment" in html
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', html).group(1)
    form = {"csrf_token": csrf_from(html), "key": key, "method": "cheque",
            "amount": "100.00", "reference": "CHQ 004711", "received_on": "2026-11-27",
            "invoices": [str(ids[0]), str(ids[1])]}
    for _ in range(2):  # posted twice: recorded once
        answer = owner_client.client.post(url, data=form)
        assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    with app.app_context():
        payment = db.session.query(Payment).one()
        assert (payment.source, payment.method, payment.status, payment.receipt_number,
                payment.reference, payment.received_on) == (
            "offline", "cheque", "succeeded", "PAY-00001", "CHQ 004711", date(2026, 11, 27))
        assert [db.session.get(Invoice, i).balance_minor for i in ids] == [0, 0, 9000]
        assert db.session.get(Customer, customer_id).credit_minor == 2000
    receipt = owner_client.client.get(f"/admin/payments/{payment.id}").get_data(as_text=True)
    assert "PAY-00001" in receipt and "Cheque" in receipt and "$20.00" in receipt
    with app.app_context():
        queue.run_due()
    receipts = [m for _, m in smtp.messages if m["Subject"].startswith("Receipt")]
    assert len(receipts) == 1
    assert "PAY-00001" in receipts[0].get_body(("plain",)).get_content()


def test_an_offline_payment_with_a_bad_amount_is_refused_next_to_it(app, owner_client):
    customer_id, _ = make_invoices(app, owner_client.merchant_id, (3000,))
    url = f"/admin/customers/{customer_id}/payments/new"
    html = owner_client.client.get(url).get_data(as_text=True)
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', html).group(1)
    answer = owner_client.client.post(url, data={
        "csrf_token": csrf_from(html), "key": key, "method": "cash", "amount": "-5",
        "received_on": "2026-11-27"})
    assert answer.status_code == 400
    assert 'id="amount-error"' in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Payment).count() == 0


def test_money_records_are_never_deleted_with_their_payment_or_invoice(app):
    for table, column in (("refund", "payment_id"), ("refund", "customer_id"),
                          ("credit_note", "invoice_id"), ("credit_note", "customer_id")):
        fk = next(fk for fk in db.metadata.tables[table].foreign_keys
                  if fk.parent.name == column)
        assert fk.ondelete == "RESTRICT"


# --- the customer's view ---------------------------------------------------------------------

def test_the_widget_history_shows_refunds_and_credit_notes_and_the_pdf(app, billed):
    with app.app_context():
        merchant = db.session.get(Merchant, billed.merchant_id)
        customer = db.session.get(Customer, billed.customer_id)
        first, second = (db.session.get(Invoice, i) for i in billed.invoice_ids)
        payment = payments.pay(merchant, customer, [first], 5000, method=VISA,
                               idempotency_key="c:w")
        db.session.commit()
        refunds.refund(merchant, payment, 1250, reason="", idempotency_key="r:w")
        note = credit_notes.issue(merchant, second, 2000, reason="Late delivery",
                                  idempotency_key="cn:w", today=date.today())
        offline = payments.record_offline(merchant, customer, [], 700, method="transfer",
                                          reference="T-1", received_on=date.today(),
                                          idempotency_key="o:w")
        db.session.commit()
        note_id, offline_number = note.id, offline.receipt_number
    page = billed.client.get(f"{billed.base}/payments")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "REF-00001" in html and "$12.50 refunded" in html
    assert "CN-00001" in html and "Late delivery" in html
    assert offline_number in html and "Bank transfer" in html
    pdf = billed.client.get(f"{billed.base}/credit-notes/{note_id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    # another customer's credit note is not found
    _, (other_invoice,) = make_invoices(app, billed.merchant_id, (900,))
    with app.app_context():
        merchant = db.session.get(Merchant, billed.merchant_id)
        other = credit_notes.issue(merchant, db.session.get(Invoice, other_invoice), 100,
                                   reason="x", idempotency_key="cn:o", today=date.today())
        db.session.commit()
        other_note = other.id
    assert billed.client.get(f"{billed.base}/credit-notes/{other_note}.pdf").status_code == 404


@pytest.mark.parametrize("language, words", [
    ("de", ("Erstattungen", "Gutschriften", "erstattet", "Überweisung")),
    ("fr", ("Remboursements", "Avoirs", "remboursés", "Virement bancaire")),
])
def test_refunds_and_credit_notes_read_in_the_customers_language(app, billed, language, words):
    with app.app_context():
        merchant = db.session.get(Merchant, billed.merchant_id)
        merchant.config = {**(merchant.config or {}), "portal": {"languages": [language]}}
        customer = db.session.get(Customer, billed.customer_id)
        first, second = (db.session.get(Invoice, i) for i in billed.invoice_ids)
        payment = payments.pay(merchant, customer, [first], 5000, method=VISA,
                               idempotency_key="c:l")
        db.session.commit()
        refunds.refund(merchant, payment, 1250, reason="", idempotency_key="r:l")
        credit_notes.issue(merchant, second, 2000, reason="x", idempotency_key="cn:l",
                           today=date.today())
        payments.record_offline(merchant, customer, [], 700, method="transfer", reference="",
                                received_on=date.today(), idempotency_key="o:l")
        db.session.commit()
    html = billed.client.get(f"{billed.base}/payments",
                             headers={"Accept-Language": language}).get_data(as_text=True)
    for word in words:
        assert word in html, word
    # and the overview's recent activity (#25 browser pass: "Zahlung · Bank transfer")
    overview = billed.client.get(f"{billed.base}/account",
                                 headers={"Accept-Language": language}).get_data(as_text=True)
    assert words[-1] in overview and "Bank transfer" not in overview


def test_every_money_action_writes_its_audit_entry(app, owner_client):
    from widget_server.tenancy.audit import AuditEntry

    _, _, payment_id = paid_payment(app, owner_client.merchant_id)
    assert post_refund(owner_client, payment_id, "10.00").status_code == 302
    customer_id, (open_id, void_id) = make_invoices(app, owner_client.merchant_id, (800, 900))
    assert owner_client.client.post(f"/admin/invoices/{open_id}/credit-notes", data={
        **_credit_form(owner_client, open_id), "amount": "1.00",
        "reason": "Dent"}).status_code == 302
    html = owner_client.client.get(f"/admin/invoices/{void_id}/void").get_data(as_text=True)
    assert owner_client.client.post(f"/admin/invoices/{void_id}/void", data={
        "csrf_token": csrf_from(html)}).status_code == 302
    url = f"/admin/customers/{customer_id}/payments/new"
    html = owner_client.client.get(url).get_data(as_text=True)
    assert owner_client.client.post(url, data={
        "csrf_token": csrf_from(html), "method": "cash", "amount": "2.00",
        "received_on": "2026-11-27", "invoices": [str(open_id)],
        "key": re.search(r'name="key" type="hidden" value="([^"]+)"', html).group(1)},
    ).status_code == 302
    with app.app_context():
        entries = db.session.query(AuditEntry).order_by(AuditEntry.id).all()
        assert [(e.action, e.subject.split(":")[0]) for e in entries] == [
            ("payment.refunded", "payment"), ("credit_note.issued", "invoice"),
            ("invoice.voided", "invoice"), ("payment.recorded", "payment")]
        assert entries[0].detail["number"] == "REF-00001"
        assert entries[0].detail["admin_email"] == "owner@acme.test"


def test_a_stripe_refund_without_an_answer_stays_pending_and_is_asked_again(
        app, owner_client, monkeypatch):
    """A timeout keeps the refund pending and its hold; "Check again" asks with the same key."""
    from tests.test_stripe_gateway import PLATFORM_KEY, connect

    monkeypatch.setitem(app.config, "PAYMENT_GATEWAY", "stripe")
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", PLATFORM_KEY)
    connect(app, owner_client.merchant_id)
    customer_id, _ = make_invoices(app, owner_client.merchant_id, (5000,))
    with app.app_context():
        payment = Payment(merchant_id=owner_client.merchant_id, customer_id=customer_id,
                          amount_minor=5000, currency="USD", status="succeeded",
                          reference="pi_3Slow", idempotency_key="c:slow",
                          plan={"gateway": "stripe"}, number=1)
        db.session.add(payment)
        db.session.commit()
        payment_id = payment.id
    with responses.RequestsMock(assert_all_requests_are_fired=True) as api:
        api.post("https://api.stripe.com/v1/refunds",
                 body=requests.ConnectionError("timed out"))
        api.post("https://api.stripe.com/v1/refunds",
                 json={"id": "re_1Late", "object": "refund", "status": "succeeded"})
        assert post_refund(owner_client, payment_id, "20.00").status_code == 302
        with app.app_context():
            row = db.session.query(Refund).one()
            assert (row.status, row.number) == ("pending", None)
            assert db.session.get(Payment, payment_id).refunded_minor == 2000  # held
        html = owner_client.client.get(f"/admin/payments/{payment_id}").get_data(as_text=True)
        assert "Check again" in html
        assert owner_client.client.post(f"/admin/refunds/{row.id}/check", data={
            "csrf_token": csrf_from(html)}).status_code == 302
        keys = [call.request.headers["Idempotency-Key"] for call in api.calls]
        assert len(keys) == 2 and keys[0] == keys[1]
    with app.app_context():
        row = db.session.query(Refund).one()
        assert (row.status, row.number, row.reference) == ("succeeded", "REF-00001",
                                                            "re_1Late")


def test_a_german_merchant_types_and_reads_amounts_in_its_locale(app, owner_client):
    with app.app_context():
        merchant = db.session.get(Merchant, owner_client.merchant_id)
        merchant.locale, merchant.currency = "de_DE", "EUR"
        db.session.commit()
    _, _, payment_id = paid_payment(app, owner_client.merchant_id, total=123456)
    assert post_refund(owner_client, payment_id, "1.000,50").status_code == 302
    page = owner_client.client.get(f"/admin/payments/{payment_id}").get_data(as_text=True)
    assert "1.000,50\xa0€" in page and "234,06\xa0€" in page  # refunded, and what is left
    answer = post_refund(owner_client, payment_id, "12.50.1")
    assert answer.status_code == 400 and "Enter an amount such as 12,50." in \
        answer.get_data(as_text=True)


def test_the_customer_page_leads_to_each_payment_and_to_recording_one(app, owner_client):
    customer_id, _, payment_id = paid_payment(app, owner_client.merchant_id)
    html = owner_client.client.get(f"/admin/customers/{customer_id}").get_data(as_text=True)
    assert f'href="/admin/payments/{payment_id}">PAY-00001</a>' in html
    assert f'href="/admin/customers/{customer_id}/payments/new"' in html


def test_amounts_finer_than_the_currency_are_refused_not_rounded(app, owner_client):
    """#24 browser pass: "12,345" refunded 12,35 € and "0,005" credited 0,01 € unsaid."""
    _, _, payment_id = paid_payment(app, owner_client.merchant_id)
    answer = post_refund(owner_client, payment_id, "12.345")
    assert answer.status_code == 400
    assert "Enter an amount such as 12.50." in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Payment, payment_id).refunded_minor == 0


def test_the_audit_log_shows_what_a_money_action_did(app, owner_client):
    """#24 browser pass: the log showed "—" for refunds, credit notes, voids and payments
    recorded: three refunds of one payment could not be told apart."""
    _, _, payment_id = paid_payment(app, owner_client.merchant_id)
    assert post_refund(owner_client, payment_id, "10.00").status_code == 302
    html = owner_client.client.get("/admin/audit-log").get_data(as_text=True)
    assert "REF-00001" in html and "$10.00" in html and "Returned goods" in html


def test_a_refund_from_a_stale_page_of_a_fully_refunded_payment_says_why(app, owner_client):
    """#24 browser pass: the answer was the page without a word (its form gone)."""
    _, _, payment_id = paid_payment(app, owner_client.merchant_id)
    stale = _refund_page(owner_client, payment_id)
    assert post_refund(owner_client, payment_id, "").status_code == 302  # all of it
    answer = owner_client.client.post(f"/admin/payments/{payment_id}/refund", data={
        **stale, "amount": "5.00", "reason": "again"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'role="alert">Not refunded: ' in html and 'id="fully-refunded"' in html


def test_an_offline_payment_dated_in_the_future_is_refused_next_to_the_day(app, owner_client):
    """#24 browser pass: a cheque "received on 01.01.2030" was recorded as collected today."""
    customer_id, (invoice_id,) = make_invoices(app, owner_client.merchant_id, (3000,))
    url = f"/admin/customers/{customer_id}/payments/new"
    html = owner_client.client.get(url).get_data(as_text=True)
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', html).group(1)
    answer = owner_client.client.post(url, data={
        "csrf_token": csrf_from(html), "key": key, "method": "cheque", "amount": "30.00",
        "received_on": "01/01/2030", "invoices": [str(invoice_id)]})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and 'id="received_on-error"' in page
    assert "cannot be in the future" in page
    with app.app_context():
        assert db.session.query(Payment).count() == 0
