"""A payment form of today (issue #20): the card number grouped as typed with its brand shown,
the expiry's slash added, and the payment date typed and shown in the merchant's format (a
German merchant's customers write 05.12.2026, whatever their browser's locale)."""
import re
from datetime import date, timedelta

import pytest

from tests.payment_support import CARD, pay_form, set_payment
from widget_server.billing.models import Payment
from widget_server.core.extensions import db
from widget_server.tenancy.models import Merchant


def _german(app, billed, *, english_too=False):
    """A German merchant; `english_too`: English enabled beside German (B-5), so an en-US
    browser reads English while dates are still typed the merchant's way."""
    with app.app_context():
        merchant = db.session.get(Merchant, billed.merchant_id)
        merchant.locale = "de_DE"
        if english_too:
            merchant.config = {**merchant.config, "portal": {"languages": ["de", "en"]}}
        db.session.commit()
    set_payment(app, billed, {"edit_effective_date": True})


def _fifth_of_december() -> date:
    """5 December 2026 while it can be scheduled (today to a year ahead); later, a date as
    near in the future."""
    wanted = date(2026, 12, 5)
    return wanted if date.today() <= wanted <= date.today() + timedelta(days=365) \
        else date.today() + timedelta(days=6)


def _scheduled(app, billed) -> list:
    with app.app_context():
        return [p.scheduled_for for p in db.session.query(Payment).filter_by(
            customer_id=billed.customer_id, status="scheduled")]


def test_a_german_merchant_shows_and_reads_dates_the_german_way(app, billed):
    _german(app, billed)
    page = billed.client.get(f"{billed.base}/pay").get_data(as_text=True)
    assert f'value="{date.today():%d.%m.%Y}"' in page and 'type="date"' not in page
    assert "Geben Sie es als TT.MM.JJJJ ein." in page  # the customer reads German
    day = _fifth_of_december()
    answer = billed.client.post(f"{billed.base}/pay", data={
        **pay_form(billed), **CARD, "invoice": str(billed.invoice_ids[0]),
        "payment_date": f"{day:%d.%m.%Y}"})
    assert answer.status_code == 200 and _scheduled(app, billed) == [day]
    # ISO is still understood; nonsense is refused in the merchant's terms
    iso = billed.client.post(f"{billed.base}/pay", data={
        **pay_form(billed), **CARD, "invoice": str(billed.invoice_ids[1]),
        "payment_date": day.isoformat()})
    assert iso.status_code == 200 and len(_scheduled(app, billed)) == 2
    bad = billed.client.post(f"{billed.base}/pay", data={
        **pay_form(billed), **CARD, "invoice": str(billed.invoice_ids[1]),
        "payment_date": "31.02.2026"})
    assert bad.status_code == 400
    assert "Geben Sie das Datum als TT.MM.JJJJ ein." in bad.get_data(as_text=True)


def test_a_us_merchant_reads_month_first(app, billed):
    set_payment(app, billed, {"edit_effective_date": True})
    page = billed.client.get(f"{billed.base}/pay").get_data(as_text=True)
    assert f'value="{date.today():%m/%d/%Y}"' in page and "MM/DD/YYYY" in page
    day = date.today() + timedelta(days=3)
    billed.client.post(f"{billed.base}/pay", data={
        **pay_form(billed), **CARD, "invoice": str(billed.invoice_ids[0]),
        "payment_date": f"{day.month}/{day.day}/{day:%y}"})
    assert _scheduled(app, billed) == [day]


@pytest.mark.browser
def test_card_fields_format_as_typed_and_a_german_date_schedules(app, page, live_server,
                                                                  billed):
    _german(app, billed, english_too=True)
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"{live_server}{billed.standalone}/login")
    page.get_by_label("Username or email").fill(billed.username)
    page.get_by_label("Password").fill(billed.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Hello, Jane").wait_for()
    page.goto(f"{live_server}{billed.standalone}/pay")
    when = page.get_by_label("Payment date")
    assert when.input_value() == f"{date.today():%d.%m.%Y}"
    page.locator(f"#invoice-{billed.invoice_ids[0]}").check()
    number = page.get_by_label("Card number")
    number.press_sequentially("378282246310005")
    assert number.input_value() == "3782 822463 10005"
    assert page.locator("#card-brand").text_content() == "Amex"
    number.fill("")
    number.press_sequentially("4242424242424242")
    assert number.input_value() == "4242 4242 4242 4242"
    assert page.locator("#card-brand").text_content() == "Visa"
    # a digit deleted in the middle regroups the rest and leaves the caret where it was
    number.press("Home")
    for _ in range(6):
        number.press("ArrowRight")
    number.press("Backspace")
    assert number.input_value() == "4242 2424 2424 242"
    assert page.evaluate("document.activeElement.selectionStart") == 4
    number.press("9")
    assert number.input_value() == "4242 9242 4242 4242"
    assert page.evaluate("document.activeElement.selectionStart") == 6
    number.fill("")
    number.press_sequentially("4242424242424242")
    expiry = page.get_by_label("Expiry (MM/YY)")
    expiry.press_sequentially("1239")
    assert expiry.input_value() == "12/39"
    page.get_by_label("Security code").fill("123")
    day = _fifth_of_december()
    when.fill(f"{day:%d.%m.%Y}")
    page.get_by_role("button", name=re.compile(r"^Pay .*\d")).click()  # "Pay 50,00 $"
    page.locator("#card_number").wait_for(state="detached")  # the result page
    assert _scheduled(app, billed) == [day]
