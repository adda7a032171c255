"""Accept clicked twice, or in several tabs at once (issue #23 item 1, W-9): one order, one
first invoice, and every tab lands on that order. Real concurrent HTTP requests against the
threaded live server, on SQLite and (in CI) PostgreSQL, as tests/test_order_race.py does."""
import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_from
from tests.proposal_support import add_proposal
from tests.test_checkout_race import Tab, _submit_at_once
from widget_server.billing.models import Invoice
from widget_server.commerce.models import Order
from widget_server.commerce.proposal_models import Proposal
from widget_server.core.extensions import db


@pytest.mark.parametrize("tabs", [2, 6])
def test_accept_in_several_tabs_at_once_makes_one_order(app, portal, live_server, tabs):
    p = portal()
    add_proposal(app, p)
    tab = Tab(live_server + p.base)
    tab.sign_in(p.username, p.password)
    page = tab.get(f"/proposals/{p.proposal_id}")
    assert page.status_code == 200 and "Accept proposal" in page.text
    form = {"csrf_token": csrf_from(page.text), "name": "Jane Doe"}

    answers = _submit_at_once([form] * tabs, tab, f"/proposals/{p.proposal_id}/accept")

    assert [a.status_code for a in answers] == [303] * tabs, [a.text[:300] for a in answers]
    assert len({a.headers["Location"] for a in answers}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1
        assert db.session.scalar(select(func.count()).select_from(Invoice)) == 1
        proposal = db.session.get(Proposal, p.proposal_id)
        order = db.session.scalar(select(Order))
        assert proposal.status == "accepted" and proposal.order_id == order.id
        assert answers[0].headers["Location"].endswith(f"/orders/{order.id}")
