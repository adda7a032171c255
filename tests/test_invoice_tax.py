"""Tax on invoices (issue #21 items 3 to 5): the widget's invoice page, the admin's and the PDF
show each line's tax rate and, under the lines, the net, the tax per rate and the total, when a
line carries tax; the PDF names the merchant (legal name, address, tax number) and the customer
(name, address), in the customer's language. Without tax an invoice looks as before."""
import io
import uuid
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from tests.conftest import widget_login
from widget_server.billing.invoices import build_invoice
from widget_server.catalogue.models import Product
from widget_server.core.extensions import db
from widget_server.core.i18n import formatting_locale
from widget_server.core.money import format_money
from widget_server.customers.models import Customer
from widget_server.tenancy.models import Merchant

ADDRESS = "Hauptstraße 1\n10115 Berlin\nDeutschland"
# prices without tax: 2 × 10.00 at 7 % and 1 × 100.00 at 19 %
EXCLUDED = {"net": 12000, 700: 140, 1900: 1900, "total": 14040}
# the same prices with tax included: net = round(gross / (1 + rate)) per line
INCLUDED = {"net": 1869 + 8403, 700: 131, 1900: 1597, "total": 12000}


def _flat(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


@pytest.fixture
def taxed(app, portal):
    def make(prices_include_tax: bool, *, rates=(700, 1900)):
        p = portal(config={"portal": {"languages": ["en", "de", "fr"]},
                           "business": {"legal_name": "Acme Outdoor GmbH", "address": ADDRESS,
                                        "tax_number": "DE123456789",
                                        "prices_include_tax": prices_include_tax}})
        with app.app_context():
            merchant = db.session.get(Merchant, p.merchant_id)
            merchant.currency, merchant.locale = "EUR", "de_DE"
            customer = db.session.get(Customer, p.customer_id)
            customer.company = "Doe Trading"
            customer.address_line1, customer.postal_code = "12 Rue de la Paix", "75002"
            customer.city, customer.country = "Paris", "FR"
            products = [Product(merchant_id=merchant.id, sku=f"P{n}", name=f"Item at {rate}",
                                unit_price_minor=price, currency="EUR", tax_rate_bp=rate)
                        for n, (rate, price) in enumerate(zip(rates, (1000, 10000),
                                                              strict=True))]
            db.session.add_all(products)
            db.session.flush()
            invoice = build_invoice(merchant, customer, [(products[0], 2), (products[1], 1)],
                                    number=uuid.uuid4().hex[:8].upper(),
                                    issue_date=date.today(),
                                    due_date=date.today() + timedelta(days=14))
            db.session.commit()
            p.invoice_id, p.number = invoice.id, invoice.number
            p.product_ids = [product.id for product in products]
        p.client = app.test_client()
        widget_login(p.client, p.base, p.username, p.password)
        return p

    return make


def _money(minor, language):
    return _flat(format_money(minor, "EUR", formatting_locale(language, "de_DE")))


def _pdf_text(p, language) -> str:
    response = p.client.get(f"{p.base}/invoices/{p.invoice_id}.pdf",
                            headers={"Accept-Language": language})
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    return _flat("\n".join(page.extract_text() for page in reader.pages))


@pytest.mark.parametrize(("include", "expected"), [(False, EXCLUDED), (True, INCLUDED)])
def test_the_pdf_carries_both_parties_and_the_tax_per_rate(taxed, include, expected):
    p = taxed(include)
    text = _pdf_text(p, "en")
    for needle in ("Acme Outdoor GmbH", "Hauptstraße 1", "10115 Berlin", "DE123456789",
                   "Jane Doe", "Doe Trading", "12 Rue de la Paix", "75002 Paris", "France",
                   f"Invoice {p.number}", "Tax number", "Item at 700", "Item at 1900"):
        assert needle in text, (needle, text)
    assert f"Net {_money(expected['net'], 'en')}" in text, text
    assert f"Tax 7 % {_money(expected[700], 'en')}" in text, text
    assert f"Tax 19 % {_money(expected[1900], 'en')}" in text, text
    assert f"Total {_money(expected['total'], 'en')}" in text, text
    assert expected["net"] + expected[700] + expected[1900] == expected["total"]


def test_the_pdf_speaks_the_customers_language(taxed):
    p = taxed(False)
    german = _pdf_text(p, "de-DE,de;q=0.9")
    assert f"Rechnung {p.number}" in german, german
    assert f"Netto {_money(EXCLUDED['net'], 'de')}" in german
    assert f"USt. 19 % {_money(EXCLUDED[1900], 'de')}" in german
    assert "USt-IdNr./Steuernr." in german and "Frankreich" in german
    french = _pdf_text(p, "fr")
    assert f"Montant HT {_money(EXCLUDED['net'], 'fr')}" in french
    assert f"TVA 7 % {_money(EXCLUDED[700], 'fr')}" in french


@pytest.mark.parametrize(("include", "expected"), [(False, EXCLUDED), (True, INCLUDED)])
def test_the_widget_invoice_page_shows_the_tax_per_rate(taxed, include, expected):
    p = taxed(include)
    html = _flat(p.client.get(f"{p.base}/invoices/{p.invoice_id}",
                              headers={"Accept-Language": "de"}).get_data(as_text=True))
    assert "Steuersatz" in html and 'data-label="Steuersatz">7 %<' in html
    assert f'Netto</th><td class="num">{_money(expected["net"], "de")}<' in html
    assert f'USt. 19 %</th><td class="num">{_money(expected[1900], "de")}<' in html
    assert f'Gesamt</th><td class="num">{_money(expected["total"], "de")}<' in html


def test_an_invoice_without_tax_looks_as_before(taxed, app):
    p = taxed(False, rates=(0, 0))
    html = p.client.get(f"{p.base}/invoices/{p.invoice_id}",
                        headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Tax rate" not in html and ">Net<" not in html and "Total" in html
    text = _pdf_text(p, "en")
    assert "Net " not in text and "Tax rate" not in text and "Total" in text


def test_the_admin_invoice_shows_net_tax_and_total(taxed, app, browser_like):
    p = taxed(True)
    browser_like.client.get("/admin/login")
    assert browser_like.login("owner@acme.test", "owner-pass-123").status_code == 302
    html = _flat(browser_like.client.get(f"/admin/invoices/{p.invoice_id}").get_data(
        as_text=True))
    def admin(minor):
        return _flat(format_money(minor, "EUR", "de_DE"))

    assert "<td>7 %</td>" in html and "<td>19 %</td>" in html
    assert f">Net</th><td>{admin(INCLUDED['net'])}<" in html
    assert f">Tax 7 %</th><td>{admin(INCLUDED[700])}<" in html
    assert f">Total</th><td>{admin(INCLUDED['total'])}<" in html
    # the PDF, from the admin too (browser pass #21: it had none), in the admin's English
    assert f'href="/admin/invoices/{p.invoice_id}.pdf"' in html
    pdf = browser_like.client.get(f"/admin/invoices/{p.invoice_id}.pdf")
    assert pdf.mimetype == "application/pdf"
    text = _flat(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages))
    assert "Tax 19 %" in text and "Bill to" in text
    foreign = browser_like.client.get(f"/admin/invoices/{p.invoice_id + 999}.pdf")
    assert foreign.status_code == 404


@pytest.mark.parametrize(("include", "expected"), [(False, EXCLUDED), (True, INCLUDED)])
def test_a_draft_made_in_the_admin_totals_its_taxed_lines(taxed, app, browser_like, include,
                                                         expected):
    from widget_server.billing.models import Invoice

    p = taxed(include)
    assert browser_like.login("owner@acme.test", "owner-pass-123").status_code == 302
    url = f"/admin/customers/{p.customer_id}/invoices/new"
    form = browser_like.client.get(url).get_data(as_text=True)
    assert "tax 7 %" in form and "tax 19 %" in form
    assert ("Prices include tax" if include else "Tax is added to these prices") in form
    response = browser_like.submit(url, {"product_0": str(p.product_ids[0]), "quantity_0": "2",
                                         "product_1": str(p.product_ids[1]), "quantity_1": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        draft = db.session.get(Invoice, int(response.headers["Location"].rsplit("/", 1)[1]))
        assert (draft.total_minor, draft.balance_minor) == (expected["total"],) * 2
        assert sum(line.net_minor for line in draft.lines) == expected["net"]
        assert [line.tax_minor for line in draft.lines] == [expected[700], expected[1900]]
    html = _flat(browser_like.client.get(response.headers["Location"]).get_data(as_text=True))
    total = _flat(format_money(expected["total"], "EUR", "de_DE"))
    assert f">Total</th><td>{total}<" in html
    assert f">Tax 19 %</th><td>{_flat(format_money(expected[1900], 'EUR', 'de_DE'))}<" in html
