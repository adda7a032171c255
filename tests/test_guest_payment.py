"""Guest invoice payment (W-5): the Pay invoice link without sign-in when the merchant allows
it, the payment on the invoice's own customer, enrolment while paying, and every switch
enforced on the server (P-8)."""
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_from
from tests.payment_support import CARD, balances, hidden_fields, set_payment
from widget_server.billing import issuing
from widget_server.billing.models import Invoice, Payment
from widget_server.core.extensions import db
from widget_server.customers.models import Customer
from widget_server.notifications.models import EmailMessage
from widget_server.tenancy.models import Merchant


@pytest.fixture
def guest(app, billed):
    """The billed customer's first invoice, its Pay link, and a browser that is not signed in."""
    with app.app_context():
        billed.token = issuing.pay_token(db.session.get(Invoice, billed.invoice_ids[0]))
    billed.guest = app.test_client()
    return billed


def _allow(app, p, *, skip=False):
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        merchant.config = {**(merchant.config or {}),
                           "portal": {"allow_guest_invoice_payment": True,
                                      "skip_login_screen": skip}}
        db.session.commit()


def _guest_form(p):
    page = p.guest.get(f"{p.base}/guest/pay/{p.token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return hidden_fields(html)


def _count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_guest_payment_is_off_by_default(app, guest):
    response = guest.guest.get(f"{guest.base}/pay/{guest.token}")
    assert response.status_code == 302 and response.location.endswith(f"{guest.base}/login")
    login = guest.guest.get(f"{guest.base}/login").get_data(as_text=True)
    assert 'id="guest-offer"' not in login
    assert guest.guest.get(f"{guest.base}/guest/pay/{guest.token}").status_code == 403
    csrf = csrf_from(login)
    assert guest.guest.post(f"{guest.base}/guest/pay/{guest.token}",
                            data={**CARD, "csrf_token": csrf}).status_code == 403
    assert balances(app, guest) == [5000, 10000]


def test_a_guest_pays_from_the_link_and_the_payment_lands_on_the_invoices_customer(app, guest):
    _allow(app, guest)
    customers_before = _count(app, Customer)
    response = guest.guest.get(f"{guest.base}/pay/{guest.token}")
    assert response.location.endswith(f"{guest.base}/login")  # sign-in offered first...
    login = guest.guest.get(f"{guest.base}/login").get_data(as_text=True)
    offer = re.search(r'id="guest-offer">[^<]*<a href="([^"]+)"', login)[1]
    assert offer == f"{guest.base}/guest/pay/{guest.token}"  # ...with the guest way beside it
    page = guest.guest.get(offer).get_data(as_text=True)
    assert "Pay invoice" in page and "$50.00" in page and "Not enrolled?" in page
    paid = guest.guest.post(offer, data={**_guest_form(guest), **CARD})
    text = paid.get_data(as_text=True)
    assert paid.status_code == 200 and "Thank you" in text and "Sign in to your account" in text
    assert balances(app, guest) == [0, 10000]
    assert _count(app, Customer) == customers_before  # never a duplicate customer
    with app.app_context():
        [payment] = db.session.scalars(select(Payment)).all()
        assert (payment.customer_id, payment.status) == (guest.customer_id, "succeeded")
        receipts = db.session.scalars(select(EmailMessage.to_address).where(
            EmailMessage.email_type == "payment_receipt")).all()
        assert sorted(receipts) == sorted(guest.emails)
    # the link of a paid invoice no longer pays, and says why
    again = guest.guest.get(offer)
    assert again.status_code == 200 and "is paid" in again.get_data(as_text=True)
    assert "Pay invoice" not in again.get_data(as_text=True)


def test_skip_the_login_screen_goes_straight_to_the_payment_page(app, guest):
    _allow(app, guest, skip=True)
    response = guest.guest.get(f"{guest.base}/pay/{guest.token}")
    assert response.location.endswith(f"{guest.base}/guest/pay/{guest.token}")


def test_a_signed_in_customer_still_gets_their_own_pay_page(app, guest):
    _allow(app, guest, skip=True)
    response = guest.client.get(f"{guest.base}/pay/{guest.token}")
    assert f"/pay?invoice={guest.invoice_ids[0]}" in response.location


def test_forged_or_foreign_links_and_switched_off_payments_are_refused(app, guest, portal):
    _allow(app, guest)
    assert guest.guest.get(f"{guest.base}/guest/pay/{guest.token}x").status_code == 404
    other = portal("other", username="ola", emails=("ola@example.test",))
    _allow(app, other)
    assert guest.guest.get(f"{other.base}/guest/pay/{guest.token}").status_code == 404
    form = _guest_form(guest)  # a page loaded before the switch went off
    set_payment(app, guest, {"allow_payments": False})
    assert guest.guest.post(f"{guest.base}/guest/pay/{guest.token}",
                            data={**form, **CARD}).status_code == 403
    assert balances(app, guest) == [5000, 10000]


def test_bad_card_and_double_submit(app, guest):
    _allow(app, guest)
    url = f"{guest.base}/guest/pay/{guest.token}"
    form = _guest_form(guest)
    bad = guest.guest.post(url, data={**form, **CARD, "card_number": "1234"})
    assert bad.status_code == 400 and 'id="card_number-error"' in bad.get_data(as_text=True)
    assert _count(app, Payment) == 0
    guest.guest.post(url, data={**form, **CARD})
    guest.guest.post(url, data={**form, **CARD})  # the same attempt again
    assert _count(app, Payment) == 1 and balances(app, guest) == [0, 10000]


def test_a_declined_guest_card_changes_nothing_and_offers_a_retry(app, guest):
    _allow(app, guest)
    url = f"{guest.base}/guest/pay/{guest.token}"
    response = guest.guest.post(url, data={**_guest_form(guest), **CARD,
                                           "card_number": "4000 0000 0000 0002"})
    assert response.status_code == 402
    assert f'href="{url}"' in response.get_data(as_text=True)
    assert balances(app, guest) == [5000, 10000]


def test_a_guest_can_enrol_while_paying(app, guest):
    _allow(app, guest)
    with app.app_context():
        customer = db.session.get(Customer, guest.customer_id)
        customer.username = customer.password_hash = None
        db.session.commit()
    guest.guest.post(f"{guest.base}/guest/pay/{guest.token}",
                     data={**_guest_form(guest), **CARD, "enrol": "y"})
    assert _count(app, EmailMessage, EmailMessage.email_type == "credential_create") == len(
        guest.emails)


def test_enrolling_sends_nothing_to_a_customer_who_has_a_login(app, guest):
    _allow(app, guest)
    guest.guest.post(f"{guest.base}/guest/pay/{guest.token}",
                     data={**_guest_form(guest), **CARD, "enrol": "y"})
    assert balances(app, guest) == [0, 10000]
    assert _count(app, EmailMessage, EmailMessage.email_type == "credential_create") == 0
