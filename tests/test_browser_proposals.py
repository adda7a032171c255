"""Proposals in real Chromium inside the cross-site iframe (issue #23 items 1 and 3): the host
page on 127.0.0.1 embeds the widget from localhost; the customer opens Proposals, reads the
proposal, accepts it by typing their full name and lands on the order it made, while the host
page hears proposal-accepted; another is declined with a reason (proposal-declined)."""
import pytest
from sqlalchemy import select

from tests.proposal_support import add_proposal
from tests.test_browser_embed import _events_of, _sign_in, shop  # noqa: F401
from widget_server.commerce.models import Order
from widget_server.commerce.proposal_models import Proposal
from widget_server.core.extensions import db

pytestmark = pytest.mark.browser


def _wait_event(page, type_):
    page.wait_for_function("[...document.querySelectorAll('#log li')]"
                           f".some(li => li.textContent.startsWith('box-0 {type_} '))")
    return _events_of(page, "box-0", type_)[-1]


def test_the_customer_accepts_a_proposal_and_sees_the_order(app, shop):  # noqa: F811
    declined_id = add_proposal(app, shop, note="Second option.")
    accepted_id = add_proposal(app, shop, note="As discussed on the phone.")
    page = shop.open_host()
    frame = page.frame_locator("#box-0 iframe")
    _sign_in(frame, shop.username, shop.password)
    frame.get_by_role("heading", name="Hello, Jane").wait_for()

    frame.get_by_role("link", name="Proposals", exact=True).click()
    frame.get_by_role("heading", name="Open proposals").wait_for()
    frame.get_by_role("link", name="PRO-00002").click()
    frame.get_by_role("heading", name="Proposal PRO-00002").wait_for()
    assert "As discussed on the phone." in frame.locator("#proposal-note").inner_text()
    assert frame.locator("#proposal-total").inner_text() == "$83.30"
    frame.get_by_label("Your full name").fill("Jane Doe")
    frame.get_by_role("button", name="Accept proposal").click()

    accepted = _wait_event(page, "proposal-accepted")
    with app.app_context():
        order = db.session.scalar(select(Order))
        proposal = db.session.get(Proposal, accepted_id)
        assert proposal.status == "accepted" and proposal.order_id == order.id
        assert proposal.accepted_name == "Jane Doe" and proposal.accepted_ip == "127.0.0.1"
        number, order_id = order.number, order.id
    assert accepted == {"proposal": "PRO-00002", "proposal_id": accepted_id, "amount": "83.30",
                        "amount_minor": 8330, "currency": "USD", "order": number,
                        "order_id": order_id}
    frame.get_by_role("heading", name=f"Order {number}").wait_for()
    frame.get_by_text(f"your order {number} is placed.").wait_for()
    assert "Pay $83.30" in frame.locator("#order-invoices").inner_text()  # its first invoice

    frame.get_by_role("link", name="Proposals", exact=True).click()
    frame.get_by_role("link", name="PRO-00001").click()
    frame.get_by_label("Why do you decline?").fill("We chose the other option.")
    frame.get_by_role("button", name="Decline proposal").click()
    declined = _wait_event(page, "proposal-declined")
    assert declined["proposal"] == "PRO-00001" and declined["proposal_id"] == declined_id
    frame.get_by_text("We chose the other option.").wait_for()
