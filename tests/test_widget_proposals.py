"""Proposals in the widget (issue #23 items 1 and 3, SPEC W-9, P-7, P-8): the section with Show
Proposals on (absent and refused off), the list and the page, the PDF, Accept (CSRF, the typed
name, once, the host page's event) and Decline (a reason)."""
import json
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_from, widget_login
from tests.proposal_support import add_proposal, show_proposals
from widget_server.commerce.models import Order
from widget_server.commerce.proposal_models import Proposal
from widget_server.core.extensions import db


@pytest.fixture
def quoted(app, portal):
    """A signed-in customer (p.client) with a sent proposal (p.proposal_id), Show Proposals on."""
    p = portal()
    add_proposal(app, p)
    p.client = app.test_client()
    widget_login(p.client, p.base, p.username, p.password)
    return p


def _event(html: str) -> dict:
    """The event the page hands to the host page (its body's data attributes)."""
    kind = re.search(r'data-event="([^"]+)"', html)[1]
    detail = re.search(r'data-event-detail="([^"]+)"', html)[1]
    return {"type": kind, "detail": json.loads(unescape(detail))}


def _orders(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Order))


def test_the_section_lists_the_proposal_and_its_page_offers_accept_and_decline(app, quoted):
    overview = quoted.client.get(f"{quoted.base}/account").get_data(as_text=True)
    assert ">Proposals<" in overview
    listing = quoted.client.get(f"{quoted.base}/proposals").get_data(as_text=True)
    assert "PRO-00001" in listing and 'id="open-proposals"' in listing
    page = quoted.client.get(f"{quoted.base}/proposals/{quoted.proposal_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Managed plan" in html and "Setup service" in html and "As discussed." in html
    assert "$83.30" in html and "Then $23.80 every month." in html
    assert "Accept proposal" in html and "Decline proposal" in html
    pdf = quoted.client.get(f"{quoted.base}/proposals/{quoted.proposal_id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")


def test_switched_off_the_section_is_absent_and_its_routes_refused(app, quoted):
    show_proposals(app, quoted, on=False)
    overview = quoted.client.get(f"{quoted.base}/account").get_data(as_text=True)
    assert ">Proposals<" not in overview
    base = f"{quoted.base}/proposals"
    for url in (base, f"{base}/{quoted.proposal_id}", f"{base}/{quoted.proposal_id}.pdf"):
        assert quoted.client.get(url).status_code == 403, url
    csrf = csrf_from(overview)
    for action, data in (("accept", {"name": "Jane Doe"}), ("decline", {"reason": "No"})):
        answer = quoted.client.post(f"{base}/{quoted.proposal_id}/{action}",
                                    data={"csrf_token": csrf, **data})
        assert answer.status_code == 403
    assert _orders(app) == 0


def test_accept_without_the_csrf_token_is_refused(app, quoted):
    answer = quoted.client.post(f"{quoted.base}/proposals/{quoted.proposal_id}/accept",
                                data={"name": "Jane Doe"})
    assert answer.status_code == 400 and _orders(app) == 0


def test_accepting_places_the_order_shows_it_and_tells_the_host_page(app, quoted):
    url = f"{quoted.base}/proposals/{quoted.proposal_id}"
    csrf = csrf_from(quoted.client.get(url).get_data(as_text=True))
    wrong = quoted.client.post(f"{url}/accept", data={"csrf_token": csrf, "name": "J. Doe"})
    assert wrong.status_code == 400
    assert "Type your full name as it stands on your account." in wrong.get_data(as_text=True)
    answer = quoted.client.post(f"{url}/accept", data={"csrf_token": csrf, "name": "Jane Doe"})
    assert answer.status_code == 303 and "/orders/" in answer.location
    order = quoted.client.get(answer.location).get_data(as_text=True)
    event = _event(order)
    assert "You accepted proposal PRO-00001: your order ORD-00001 is placed." in order
    assert event == {"type": "proposal-accepted", "detail": {
        "proposal": "PRO-00001", "proposal_id": quoted.proposal_id, "amount": "83.30",
        "amount_minor": 8330, "currency": "USD", "order": "ORD-00001",
        "order_id": event["detail"]["order_id"]}}
    again = quoted.client.post(f"{url}/accept", data={"csrf_token": csrf, "name": "Jane Doe"})
    assert again.status_code == 303 and again.location == answer.location
    assert _orders(app) == 1
    detail = quoted.client.get(url).get_data(as_text=True)
    assert "by Jane Doe on" in detail and "Order ORD-00001" in detail
    assert "Accept proposal" not in detail


def test_declining_needs_a_reason_and_tells_the_host_page(app, quoted):
    url = f"{quoted.base}/proposals/{quoted.proposal_id}"
    csrf = csrf_from(quoted.client.get(url).get_data(as_text=True))
    empty = quoted.client.post(f"{url}/decline", data={"csrf_token": csrf, "reason": "  "})
    assert empty.status_code == 400 and "Tell us why you decline." in empty.get_data(
        as_text=True)
    answer = quoted.client.post(f"{url}/decline", data={"csrf_token": csrf,
                                                        "reason": "Over budget this year."})
    assert answer.status_code == 303
    page = quoted.client.get(answer.location).get_data(as_text=True)
    assert _event(page)["type"] == "proposal-declined"
    assert _event(page)["detail"]["proposal"] == "PRO-00001"
    assert "Over budget this year." in page and "You declined proposal PRO-00001." in page
    refused = quoted.client.post(f"{url}/accept", data={"csrf_token": csrf, "name": "Jane Doe"})
    assert refused.status_code == 409 and _orders(app) == 0


def test_an_expired_proposal_says_so_and_refuses_acceptance(app, quoted):
    from datetime import timedelta

    with app.app_context():
        proposal = db.session.get(Proposal, quoted.proposal_id)
        proposal.valid_until -= timedelta(days=30)
        db.session.commit()
    url = f"{quoted.base}/proposals/{quoted.proposal_id}"
    page = quoted.client.get(url).get_data(as_text=True)
    assert "it can no longer be accepted" in page and "Accept proposal" not in page
    refused = quoted.client.post(f"{url}/accept", data={"csrf_token": csrf_from(page),
                                                        "name": "Jane Doe"})
    assert refused.status_code == 409 and _orders(app) == 0
    assert "This proposal has expired" in refused.get_data(as_text=True)


def test_another_customers_and_draft_proposals_answer_404(app, quoted, portal):
    other = portal("other")
    add_proposal(app, other)
    draft = add_proposal(app, quoted, send=False)
    for proposal_id in (other.proposal_id, draft):
        assert quoted.client.get(f"{quoted.base}/proposals/{proposal_id}").status_code == 404
    csrf = csrf_from(quoted.client.get(f"{quoted.base}/proposals").get_data(as_text=True))
    answer = quoted.client.post(f"{quoted.base}/proposals/{draft}/accept",
                                data={"csrf_token": csrf, "name": "Jane Doe"})
    assert answer.status_code == 404 and _orders(app) == 0


@pytest.mark.parametrize(("language", "words"), [
    ("en", ("Proposal PRO-00001", "Valid until", "Managed plan (every month)", "Net", "Total",
            "Then every month", "As discussed.")),
    ("de", ("Angebot PRO-00001", "Gültig bis", "Managed plan (jeden Monat)", "Gesamt",
            "Danach jeden Monat", "Erstellt für")),
    ("fr", ("Devis PRO-00001", "Valable jusqu’au", "Total", "Établi pour")),
])
def test_the_pdf_is_the_proposal_in_the_customers_language(app, quoted, language, words):
    import io

    from pypdf import PdfReader

    from widget_server.tenancy.models import Merchant

    with app.app_context():
        merchant = db.session.get(Merchant, quoted.merchant_id)
        merchant.config = {**merchant.config, "portal": {"languages": ["en", "de", "fr"]}}
        db.session.commit()

    answer = quoted.client.get(f"{quoted.base}/proposals/{quoted.proposal_id}.pdf",
                               headers={"Accept-Language": language})
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"] == 'attachment; filename="PRO-00001.pdf"'
    text = " ".join(" ".join(page.extract_text().split())
                    for page in PdfReader(io.BytesIO(answer.data)).pages)
    for word in words:
        assert word in text, (word, text)


def test_the_list_and_a_page_cost_the_same_statements_with_more_proposals(app, quoted,
                                                                          count_queries):
    def counts():
        result = []
        for url in (f"{quoted.base}/proposals", f"{quoted.base}/proposals/{quoted.proposal_id}"):
            with count_queries() as counter:
                assert quoted.client.get(url).status_code == 200
            result.append(counter.count)
        return result

    few = counts()
    first = quoted.proposal_id
    for _ in range(4):
        add_proposal(app, quoted, switch_on=False)
    quoted.proposal_id = first
    assert counts() == few
