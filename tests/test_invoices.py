"""Issuing invoices and the customer's invoice pages (T-5, W-2, P-5, P-8)."""
import io
import re
import uuid
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.conftest import widget_login
from widget_server.billing.invoices import build_invoice
from widget_server.billing.models import Invoice
from widget_server.catalogue.models import Product
from widget_server.core.extensions import db
from widget_server.customers.models import Customer
from widget_server.notifications.models import EmailMessage
from widget_server.profiles.models import SelfServiceProfile
from widget_server.tenancy.models import Merchant


@pytest.fixture
def shop(app, portal):
    p = portal()
    with app.app_context():
        product = Product(merchant_id=p.merchant_id, sku="TENT", name="Zażółć tent",
                          unit_price_minor=12345, currency="USD")
        db.session.add(product)
        db.session.commit()
        p.product_id = product.id
    return p


def _invoices(app, p, count, customer_id=None):
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        customer = db.session.get(Customer, customer_id or p.customer_id)
        product = db.session.get(Product, p.product_id)
        ids = []
        for n in range(count):
            invoice = build_invoice(merchant, customer, [(product, 1 + n % 3)],
                                    number=uuid.uuid4().hex[:10], issue_date=date.today(),
                                    due_date=date.today() + timedelta(days=n - 5))
            db.session.flush()
            ids.append(invoice.id)
        db.session.commit()
        return ids


def _set(app, p, tab, values):
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, p.profile_id)
        profile.settings = {**profile.settings, tab: values}
        db.session.commit()


def test_admin_issues_an_invoice_whose_email_carries_a_working_pay_link(app, shop,
                                                                       browser_like):
    browser_like.login("owner@acme.test", "owner-pass-123")
    url = f"/admin/customers/{shop.customer_id}/invoices/new"
    response = browser_like.submit(url, {"product_0": str(shop.product_id), "quantity_0": "2",
                                         "due_date": "2030-01-31"})
    assert response.status_code == 302
    detail = response.headers["Location"]
    issued = browser_like.submit(detail + "/issue", {}, form_url=detail, follow=True)
    assert "is issued; the Invoice Issued email is queued." in issued.get_data(as_text=True)
    with app.app_context():
        invoice = db.session.scalar(select(Invoice))
        assert (invoice.status, invoice.total_minor, invoice.balance_minor) == ("issued", 24690,
                                                                                24690)
        emails = db.session.scalars(select(EmailMessage)).all()
    assert sorted(m.to_address for m in emails) == sorted(shop.emails)
    assert "$246.90" in emails[0].text_body and "Jan 31, 2030" in emails[0].text_body
    path = re.search(r"https://portal\.example\.test(/p/acme/pay/\S+)", emails[0].text_body)[1]
    client = app.test_client()
    assert client.get(path).headers["Location"].endswith("/p/acme/login")
    response = widget_login(client, shop.standalone, shop.username, shop.password)
    assert response.headers["Location"] == path  # back to the link after signing in
    landing = client.get(path)
    assert landing.headers["Location"].endswith(f"/p/acme/pay?invoice={invoice.id}")
    pay_page = client.get(landing.headers["Location"]).get_data(as_text=True)
    assert f'value="{invoice.id}" id="invoice-{invoice.id}" checked' in pay_page


def test_bad_invoice_input_saves_nothing(app, shop, browser_like, make_merchant):
    browser_like.login("owner@acme.test", "owner-pass-123")
    url = f"/admin/customers/{shop.customer_id}/invoices/new"
    for data, message in (({}, "at least one line"),
                          ({"product_0": str(shop.product_id), "quantity_0": "0"}, "1 to 10,000"),
                          ({"product_0": "99999", "quantity_0": "1"}, "from your catalogue"),
                          ({"product_0": str(shop.product_id), "quantity_0": "x"}, "whole-number"),
                          ({"product_0": str(shop.product_id), "due_date": "31.01.2030"},
                           "MM/DD/YYYY")):  # en_US: its admin types dates as it reads them (#24-5)
        response = browser_like.submit(url, data)
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Invoice)) is None


def test_invoice_list_is_keyset_paginated_with_constant_queries(app, shop, count_queries):
    _invoices(app, shop, 3)
    client = app.test_client()
    widget_login(client, shop.base, shop.username, shop.password)
    with count_queries() as few:
        assert client.get(f"{shop.base}/invoices").status_code == 200
    ids = _invoices(app, shop, 40)
    with count_queries() as many:
        page = client.get(f"{shop.base}/invoices").get_data(as_text=True)
    assert few.count == many.count
    assert page.count("<tr>") == 21  # header + 20
    older = re.search(r'href="([^"]+before=\d+[^"]*)" rel="next"', page)[1].replace("&amp;", "&")
    second = client.get(older).get_data(as_text=True)
    assert f"/invoices/{ids[-21]}" in second and f"/invoices/{ids[-1]}" not in second
    assert "Overdue" in second  # the oldest ones were due days ago
    with app.app_context():
        db.session.execute(Invoice.__table__.update().where(Invoice.id == ids[-1]).values(
            status="paid", balance_minor=0))
        db.session.commit()
    outstanding = client.get(f"{shop.base}/invoices?show=outstanding").get_data(as_text=True)
    assert f"/invoices/{ids[-1]}" not in outstanding and f"/invoices/{ids[-2]}" in outstanding
    first_link = re.search(r'<td[^>]*><a href="([^"]+)">', outstanding)[1]
    assert first_link == f"{shop.base}/invoices/{ids[-2]}"
    assert client.get(first_link).status_code == 200  # each row's link opens its invoice


def test_pdf_of_one_and_of_all_invoices_keeps_every_letter(app, shop):
    ids = _invoices(app, shop, 2)
    client = app.test_client()
    widget_login(client, shop.base, shop.username, shop.password)
    response = client.get(f"{shop.base}/invoices/{ids[0]}.pdf")
    assert response.mimetype == "application/pdf"
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "Zażółć tent" in text and "$123.45" in text and "Pay invoice" in text
    everything = PdfReader(io.BytesIO(client.get(f"{shop.base}/invoices.pdf").data))
    assert len(everything.pages) == 2


def test_invoice_switches_are_enforced_on_the_server(app, shop):
    [invoice_id] = _invoices(app, shop, 1)
    client = app.test_client()
    widget_login(client, shop.base, shop.username, shop.password)
    _set(app, shop, "invoice", {"show_invoices": True, "enable_pdf_mode_only": True})
    assert client.get(f"{shop.base}/invoices/{invoice_id}").status_code == 403
    assert f"/invoices/{invoice_id}.pdf" in client.get(f"{shop.base}/invoices").get_data(
        as_text=True)
    _set(app, shop, "invoice", {"show_invoices": False})
    for path in ("/invoices", f"/invoices/{invoice_id}.pdf", "/invoices.pdf"):
        assert client.get(f"{shop.base}{path}").status_code == 403, path
    assert ">Invoices<" not in client.get(f"{shop.base}/account").get_data(as_text=True)


def test_another_customers_invoice_is_404(app, shop):
    with app.app_context():
        other = Customer(merchant_id=shop.merchant_id, first_name="Oscar", last_name="Other",
                         custom_fields={})
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    [theirs] = _invoices(app, shop, 1, customer_id=other_id)
    client = app.test_client()
    widget_login(client, shop.base, shop.username, shop.password)
    assert client.get(f"{shop.base}/invoices/{theirs}").status_code == 404
    assert client.get(f"{shop.base}/invoices/{theirs}.pdf").status_code == 404


def test_forged_pay_link_is_refused(app, shop, client):
    assert client.get(f"{shop.standalone}/pay/forged-token").status_code == 404
