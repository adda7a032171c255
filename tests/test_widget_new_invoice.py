"""Allow New Invoice (P-5): a customer raises an invoice from the catalogue and pays it."""
import re

from sqlalchemy import func, select

from tests.conftest import csrf_from
from widget_server.billing.models import Invoice
from widget_server.catalogue.models import Product
from widget_server.core.extensions import db
from widget_server.notifications.models import EmailMessage
from widget_server.profiles.models import SelfServiceProfile


def _allow(app, p, **invoice):
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, p.profile_id)
        profile.settings = {**profile.settings,
                            "invoice": {"allow_new_invoice": True, **invoice}}
        db.session.commit()


def _form(p, client=None):
    html = (client or p.client).get(f"{p.base}/invoices/new").get_data(as_text=True)
    return {"csrf_token": csrf_from(html),
            "form_key": re.search(r'name="form_key" type="hidden" value="([^"]+)"', html)[1]}


def _invoices(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Invoice.id)))


def test_new_invoice_is_off_by_default(app, billed):
    assert billed.client.get(f"{billed.base}/invoices/new").status_code == 403
    page = billed.client.get(f"{billed.base}/invoices").get_data(as_text=True)
    assert "/invoices/new" not in page


def test_a_customer_raises_an_invoice_and_is_taken_to_pay_it(app, billed):
    _allow(app, billed)
    assert "/invoices/new" in billed.client.get(f"{billed.base}/invoices").get_data(
        as_text=True)
    before = _invoices(app)
    form = _form(billed)
    response = billed.client.post(f"{billed.base}/invoices/new",
                                  data={**form, f"quantity_{billed.product_id}": "3"})
    assert response.status_code == 302
    with app.app_context():
        invoice = db.session.scalar(select(Invoice).order_by(Invoice.id.desc()))
        assert (invoice.customer_id, invoice.status, invoice.total_minor) == (
            billed.customer_id, "issued", 15000)
        assert db.session.scalar(select(func.count(EmailMessage.id)).where(
            EmailMessage.email_type == "invoice_issued")) == len(billed.emails)
    assert response.location.endswith(f"/pay?invoice={invoice.id}")
    pay_page = billed.client.get(response.location).get_data(as_text=True)
    assert f'value="{invoice.id}" id="invoice-{invoice.id}" checked' in pay_page
    # the same form posted again (a double click) makes no second invoice
    again = billed.client.post(f"{billed.base}/invoices/new",
                               data={**form, f"quantity_{billed.product_id}": "3"})
    assert again.location == response.location and _invoices(app) == before + 1


def test_bad_quantities_and_foreign_products_are_refused_next_to_the_field(app, billed,
                                                                          make_merchant):
    _allow(app, billed)
    other_id, _ = make_merchant("other")
    with app.app_context():
        foreign = Product(merchant_id=other_id, sku="X", name="Foreign", unit_price_minor=1,
                          currency="USD")
        db.session.add(foreign)
        db.session.commit()
        foreign_id = foreign.id
    before = _invoices(app)
    bad = billed.client.post(f"{billed.base}/invoices/new",
                             data={**_form(billed), f"quantity_{billed.product_id}": "-2"})
    assert bad.status_code == 400
    assert f'id="quantity_{billed.product_id}-error"' in bad.get_data(as_text=True)
    assert 'value="-2"' in bad.get_data(as_text=True)  # the input is kept
    foreign_only = billed.client.post(f"{billed.base}/invoices/new",
                                      data={**_form(billed), f"quantity_{foreign_id}": "1"})
    assert foreign_only.status_code == 400
    assert "Add at least one line" in foreign_only.get_data(as_text=True)
    assert _invoices(app) == before


def test_new_invoice_follows_show_invoices(app, billed):
    _allow(app, billed, show_invoices=False)
    assert billed.client.get(f"{billed.base}/invoices/new").status_code == 403


def test_the_form_key_is_kept_with_the_invoice_not_in_the_session(app, billed):
    """A second click may carry the session cookie of before the first answer: the key is
    checked in the database, so it still makes one invoice."""
    _allow(app, billed)
    form = _form(billed)
    data = {**form, f"quantity_{billed.product_id}": "1"}
    first = billed.client.post(f"{billed.base}/invoices/new", data=data)
    other_tab = billed.client.application.test_client()  # same customer, no shared session
    from tests.conftest import widget_login

    widget_login(other_tab, billed.base, billed.username, billed.password)
    again = other_tab.post(f"{billed.base}/invoices/new",
                           data={**data, "csrf_token": _form(billed, other_tab)["csrf_token"]})
    assert again.location == first.location
    with app.app_context():
        assert db.session.scalar(select(func.count(Invoice.id)).where(
            Invoice.request_key == form["form_key"])) == 1
