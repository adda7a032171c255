"""Helpers for the payment tests (the `billed` fixture is in conftest): the pieces of the Pay
form a browser would send, balances, and Payment tab settings."""
import re

from tests.conftest import csrf_from
from widget_server.billing.models import Invoice
from widget_server.extensions import db
from widget_server.profiles.models import SelfServiceProfile

CARD = {"method": "card", "card_number": "4242 4242 4242 4242", "expiry": "12/39", "cvc": "123"}


def pay_form(p, query=""):
    """The hidden fields of a freshly loaded Pay page."""
    page = p.client.get(f"{p.base}/pay{query}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', html)[1]
    return {"csrf_token": csrf_from(html), "idempotency_key": key}


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
