"""Receipts (issue #20 (a) 2, W-12): a payment number a person can quote, the invoices each
payment paid, on the thank-you page, in the history, on a receipt page and PDF and in the
receipt email; never the gateway's reference."""
import io
import re

from pypdf import PdfReader
from sqlalchemy import select

from tests.conftest import widget_login
from tests.payment_support import CARD
from tests.payment_support import pay_form as _form
from widget_server.billing.models import Invoice, Payment
from widget_server.core.extensions import db
from widget_server.notifications.models import EmailMessage
from widget_server.tenancy.models import Merchant


def _numbers(app, p):
    with app.app_context():
        return [db.session.get(Invoice, i).number for i in p.invoice_ids]


def _pay(p, *invoice_ids):
    return p.client.post(f"{p.base}/pay", data={
        **_form(p), **CARD, "invoice": [str(i) for i in invoice_ids]})


def _payment(app):
    with app.app_context():
        payment = db.session.scalars(select(Payment).order_by(Payment.id.desc())).first()
        return payment.id, payment.receipt_number, payment.reference


def test_thank_you_names_the_payment_number_and_the_invoices_paid(app, billed):
    response = _pay(billed, *billed.invoice_ids)
    page = response.get_data(as_text=True)
    payment_id, number, reference = _payment(app)
    assert response.status_code == 200 and "Thank you" in page
    assert number == "PAY-00001" and number in page
    assert reference.startswith("sbx_") and reference not in page
    for invoice_number in _numbers(app, billed):
        assert f"Invoice {invoice_number}" in page
    assert f"/payments/{payment_id}" in page


def test_payment_numbers_follow_each_other_per_merchant(app, billed):
    _pay(billed, billed.invoice_ids[0])
    first = _payment(app)[1]
    _pay(billed, billed.invoice_ids[1])
    assert (first, _payment(app)[1]) == ("PAY-00001", "PAY-00002")


def test_history_shows_what_each_payment_paid_and_links_its_receipt(app, billed):
    _pay(billed, billed.invoice_ids[0])
    payment_id, number, _ = _payment(app)
    page = billed.client.get(f"{billed.base}/payments").get_data(as_text=True)
    assert _numbers(app, billed)[0] in page and _numbers(app, billed)[1] not in page
    assert f'href="{billed.base}/payments/{payment_id}"' in page and number in page


def test_receipt_page_and_pdf_name_the_number_and_the_invoices(app, billed):
    _pay(billed, *billed.invoice_ids)
    payment_id, number, reference = _payment(app)
    page = billed.client.get(f"{billed.base}/payments/{payment_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and number in html and reference not in html
    for invoice_number in _numbers(app, billed):
        assert invoice_number in html
    pdf = billed.client.get(f"{billed.base}/payments/{payment_id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert number in text and "sbx" not in text
    for invoice_number in _numbers(app, billed):
        assert invoice_number in text


def test_receipts_are_the_customers_own_and_only_of_succeeded_payments(app, billed, portal):
    _pay(billed, billed.invoice_ids[0])
    payment_id = _payment(app)[0]
    other = portal("globex")  # another merchant's customer
    client = app.test_client()
    widget_login(client, other.base, other.username, other.password)
    assert client.get(f"{other.base}/payments/{payment_id}").status_code == 404
    assert client.get(f"{other.base}/payments/{payment_id}.pdf").status_code == 404
    with app.app_context():
        db.session.get(Payment, payment_id).status = "failed"
        db.session.commit()
    assert billed.client.get(f"{billed.base}/payments/{payment_id}").status_code == 404


def test_receipt_email_shows_the_payment_number_not_the_gateway_reference(app, billed):
    with app.app_context():
        merchant = db.session.get(Merchant, billed.merchant_id)
        merchant.config = {"notifications": {"payment_receipt": True}}
        db.session.commit()
    _pay(billed, billed.invoice_ids[0])
    _, number, reference = _payment(app)
    with app.app_context():
        messages = db.session.scalars(select(EmailMessage).where(
            EmailMessage.email_type == "payment_receipt")).all()
        text = " ".join(m.subject + m.text_body + m.html_body for m in messages)
    assert messages
    assert number in text
    assert reference not in text and not re.search(r"sbx_", text)


def test_an_invoice_past_due_says_overdue_on_its_page_as_in_the_list(app, billed):
    """The browser pass (#20) found the detail saying "Due" where the list said "Overdue"."""
    from datetime import date, timedelta

    with app.app_context():
        invoice = db.session.get(Invoice, billed.invoice_ids[0])
        invoice.due_date = date.today() - timedelta(days=3)
        db.session.commit()
    page = billed.client.get(f"{billed.base}/invoices/{billed.invoice_ids[0]}")
    text = page.get_data(as_text=True)
    assert 'class="badge badge-overdue">Overdue<' in text
