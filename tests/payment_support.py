"""Helpers for the payment tests (the `billed` fixture is in conftest): the pieces of the Pay
form a browser would send, balances, and Payment tab settings."""
import re

from tests.conftest import csrf_from
from widget_server.billing.models import Invoice
from widget_server.core.extensions import db
from widget_server.profiles.models import SelfServiceProfile

CARD = {"method": "card", "card_number": "4242 4242 4242 4242", "expiry": "12/39", "cvc": "123"}


def hidden_fields(html: str) -> dict:
    """Every hidden input of a page (CSRF token, idempotency key, rules version…), as a browser
    would post them back."""
    return {m["name"]: m["value"] for m in re.finditer(
        r'<input id="[^"]*" name="(?P<name>[^"]+)" type="hidden" value="(?P<value>[^"]*)"',
        html)}


def pay_form(p, query=""):
    """The hidden fields of a freshly loaded Pay page."""
    page = p.client.get(f"{p.base}/pay{query}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    fields = hidden_fields(html)
    assert fields["csrf_token"] == csrf_from(html) and fields["idempotency_key"]
    return fields


def balances(app, p):
    with app.app_context():
        return [db.session.get(Invoice, i).balance_minor for i in p.invoice_ids]


def set_payment(app, p, values):
    """Set Payment tab settings of the customer's profile."""
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, p.profile_id)
        profile.settings = {**profile.settings,
                            "payment": {**profile.settings.get("payment", {}), **values}}
        db.session.commit()


def add_money_back(app, p):
    """#24: part of the customer's first succeeded payment refunded and a credit note with a
    long reason on their second invoice, so the Payments page lists both."""
    from datetime import date

    from sqlalchemy import select

    from widget_server.billing import credit_notes, refunds
    from widget_server.billing.models import Payment
    from widget_server.tenancy.models import Merchant

    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        payment = db.session.scalar(select(Payment).where(
            Payment.merchant_id == p.merchant_id, Payment.status == "succeeded")
            .order_by(Payment.id).limit(1))
        refunds.refund(merchant, payment, 1000, reason="Goodwill",
                       idempotency_key="r:support")
        credit_notes.issue(merchant, db.session.get(Invoice, p.invoice_ids[1]), 500,
                           reason="A rather long reason for a credit note " * 3,
                           idempotency_key="cn:support", today=date.today())
        db.session.commit()
