"""No dead ends (issue #20 (a) 2): a payable invoice offers Pay, the overview's rows lead to
their invoice or receipt, and the invoice list pages both ways."""
import re
import uuid
from datetime import date, timedelta
from html import unescape

from tests.payment_support import CARD, set_payment
from tests.payment_support import pay_form as _form
from widget_server.billing.invoices import build_invoice
from widget_server.billing.models import Invoice, Payment
from widget_server.catalogue.models import Product
from widget_server.core.extensions import db
from widget_server.customers.models import Customer
from widget_server.tenancy.models import Merchant


def _detail(p, invoice_id):
    return p.client.get(f"{p.base}/invoices/{invoice_id}").get_data(as_text=True)


def test_a_payable_invoice_has_a_pay_button(app, billed):
    html = _detail(billed, billed.invoice_ids[0])
    assert f'href="{billed.base}/pay?invoice={billed.invoice_ids[0]}">Pay $50.00</a>' in html
    pay_page = billed.client.get(f"{billed.base}/pay?invoice={billed.invoice_ids[0]}")
    assert "Pay $50.00</button>" in pay_page.get_data(as_text=True)


def test_no_pay_button_when_paid_or_payments_are_off(app, billed):
    billed.client.post(f"{billed.base}/pay", data={
        **_form(billed), **CARD, "invoice": str(billed.invoice_ids[0])})
    assert f"/pay?invoice={billed.invoice_ids[0]}" not in _detail(billed, billed.invoice_ids[0])
    assert f"/pay?invoice={billed.invoice_ids[1]}" in _detail(billed, billed.invoice_ids[1])
    set_payment(app, billed, {"allow_payments": False})
    assert f"/pay?invoice={billed.invoice_ids[1]}" not in _detail(billed, billed.invoice_ids[1])


def test_pay_all_from_an_invoice_shows_the_whole_total(app, billed):
    set_payment(app, billed, {"invoice_choice": "all"})
    html = billed.client.get(f"{billed.base}/pay?invoice={billed.invoice_ids[0]}") \
        .get_data(as_text=True)
    assert "Pay $150.00</button>" in html


def test_overview_rows_link_to_their_invoice_or_receipt(app, billed):
    billed.client.post(f"{billed.base}/pay", data={
        **_form(billed), **CARD, "invoice": str(billed.invoice_ids[0])})
    with app.app_context():
        payment_id = db.session.query(Payment.id).scalar()
        number = db.session.get(Invoice, billed.invoice_ids[0]).number
    html = billed.client.get(f"{billed.base}/account").get_data(as_text=True)
    assert f'<a href="{billed.base}/invoices/{billed.invoice_ids[0]}">Invoice {number}</a>' \
        in html
    assert f'<a href="{billed.base}/payments/{payment_id}">Payment' in html


def _many_invoices(app, p, count):
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        customer = db.session.get(Customer, p.customer_id)
        product = db.session.get(Product, p.product_id)
        for _ in range(count):
            build_invoice(merchant, customer, [(product, 1)], number=uuid.uuid4().hex[:8],
                          issue_date=date.today(), due_date=date.today() + timedelta(days=3))
        db.session.commit()


def _links(html):
    return {rel: unescape(href) for href, rel in
            re.findall(r'<a href="([^"]+)" rel="(next|prev)"', html)}


def _rows(html):
    return re.findall(r'/invoices/(\d+)">', html)


def test_invoice_pages_go_both_ways(app, billed):
    _many_invoices(app, billed, 43)  # 45 in all: pages of 20, 20 and 5
    first = billed.client.get(f"{billed.base}/invoices").get_data(as_text=True)
    assert set(_links(first)) == {"next"}
    second = billed.client.get(_links(first)["next"]).get_data(as_text=True)
    assert set(_links(second)) == {"next", "prev"} and "← Newer invoices" in second
    third = billed.client.get(_links(second)["next"]).get_data(as_text=True)
    assert set(_links(third)) == {"prev"} and len(_rows(third)) == 5
    back = billed.client.get(_links(third)["prev"]).get_data(as_text=True)
    assert _rows(back) == _rows(second) and _links(back) == _links(second)
    top = billed.client.get(_links(back)["prev"]).get_data(as_text=True)
    assert _rows(top) == _rows(first) and set(_links(top)) == {"next"}
