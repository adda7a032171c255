"""The Pay page shows the total to be charged before anything is (issue #20 (a) 1, W-12): the
server's quote comes from the checkout service that charges; without script, Review shows it;
a Pay post made under another total is shown again, never charged."""
from sqlalchemy import func, select

from tests.payment_support import CARD, balances, set_payment
from tests.payment_support import pay_form as _form
from widget_server.billing.models import Payment
from widget_server.core.extensions import db


def _page(p, query=""):
    return p.client.get(f"{p.base}/pay{query}").get_data(as_text=True)


def _payments(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Payment.id)))


def test_a_chosen_invoice_shows_its_total_on_the_pay_button(app, billed):
    html = _page(billed, f"?invoice={billed.invoice_ids[0]}")
    assert "Pay $50.00</button>" in html and "Total to pay: <strong data-total>$50.00" in html
    assert 'name="total_shown" type="hidden" value="5000"' in html
    assert 'data-balance="10000"' in html and 'data-money-pre="$"' in html


def test_nothing_chosen_offers_review_not_pay(app, billed):
    html = _page(billed)
    assert "data-pay-button hidden>Pay </button>" in html and "Review the total" in html


def test_pay_all_shows_the_total_from_the_start(app, billed):
    set_payment(app, billed, {"invoice_choice": "all"})
    html = _page(billed)
    assert "Pay $150.00</button>" in html and 'data-pay-all="15000"' in html


def test_review_shows_the_total_and_charges_nothing(app, billed):
    response = billed.client.post(f"{billed.base}/pay", data={
        **_form(billed), **CARD, "invoice": [str(i) for i in billed.invoice_ids],
        "review": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Pay $150.00</button>" in html
    assert 'name="total_shown" type="hidden" value="15000"' in html
    assert _payments(app) == 0 and balances(app, billed) == [5000, 10000]


def test_review_of_a_typed_amount(app, billed):
    set_payment(app, billed, {"payment_amount": "any"})
    html = billed.client.post(f"{billed.base}/pay", data={
        **_form(billed), **CARD, "invoice": str(billed.invoice_ids[0]), "amount": "20,5",
        "review": "1"}).get_data(as_text=True)
    assert "Pay $20.50</button>" in html


def test_a_pay_post_under_another_total_is_shown_again_not_charged(app, billed):
    form = _form(billed, f"?invoice={billed.invoice_ids[0]}")
    assert form["total_shown"] == "5000"
    response = billed.client.post(f"{billed.base}/pay", data={  # both ticked, no new total
        **form, **CARD, "invoice": [str(i) for i in billed.invoice_ids]})
    html = response.get_data(as_text=True)
    assert "The total has changed" in html and "Pay $150.00</button>" in html
    assert _payments(app) == 0 and balances(app, billed) == [5000, 10000]
    response = billed.client.post(f"{billed.base}/pay", data={  # as reviewed: charged
        **form, **CARD, "total_shown": "15000",
        "invoice": [str(i) for i in billed.invoice_ids]})
    assert "Thank you" in response.get_data(as_text=True)
    assert balances(app, billed) == [0, 0]
