"""The thank-you page after a payment promises an emailed receipt only when one is sent
(issue #18 9a; N-2 Payment Receipt switch, C-2 Primary Email)."""
import pytest
from sqlalchemy import delete, select

from tests.payment_support import CARD, hidden_fields
from tests.payment_support import pay_form as _form
from widget_server.billing import issuing
from widget_server.billing.models import Invoice
from widget_server.core.extensions import db
from widget_server.customers.models import CustomerEmail
from widget_server.notifications.models import EmailMessage
from widget_server.tenancy.models import Merchant

PROMISE = "Your receipt is on its way by email."


def _configure(app, p, *, receipt=True, emails=True, guest=False):
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        merchant.config = {"notifications": {"payment_receipt": receipt},
                           "portal": {"allow_guest_invoice_payment": guest}}
        if not emails:
            db.session.execute(delete(CustomerEmail).where(
                CustomerEmail.customer_id == p.customer_id))
        db.session.commit()


def _receipts(app):
    with app.app_context():
        return db.session.scalars(select(EmailMessage).where(
            EmailMessage.email_type == "payment_receipt")).all()


@pytest.mark.parametrize(("receipt", "emails", "promised"), [
    (True, True, True), (False, True, False), (True, False, False)])
def test_the_receipt_is_promised_only_when_it_is_emailed(app, billed, receipt, emails,
                                                         promised):
    _configure(app, billed, receipt=receipt, emails=emails)
    response = billed.client.post(f"{billed.base}/pay", data={
        **_form(billed), **CARD, "invoice": str(billed.invoice_ids[0])})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Thank you" in page
    assert (PROMISE in page) is promised
    assert bool(_receipts(app)) is promised  # the page says what really happened


def test_a_guest_is_not_promised_a_switched_off_receipt(app, billed):
    _configure(app, billed, receipt=False, guest=True)
    with app.app_context():
        token = issuing.pay_token(db.session.get(Invoice, billed.invoice_ids[0]))
    guest = app.test_client()
    url = f"{billed.base}/guest/pay/{token}"
    form = hidden_fields(guest.get(url).get_data(as_text=True))
    page = guest.post(url, data={**form, **CARD}).get_data(as_text=True)
    assert "Thank you" in page and PROMISE not in page
