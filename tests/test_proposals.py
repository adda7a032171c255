"""Proposals, the service (issue #23 item 1, SPEC W-9): numbered from the merchant's counter,
priced as orders are, sent with an email; accepted once (a second accept gives the same order),
refused once expired, declined only with a reason, and another customer's never touched."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.proposal_support import add_proposal
from widget_server.billing.models import Invoice
from widget_server.commerce import orders, proposals
from widget_server.commerce.models import Order
from widget_server.commerce.proposal_models import ACCEPTED, DECLINED, SENT, Proposal
from widget_server.core.domain import DomainError
from widget_server.core.extensions import db
from widget_server.customers.models import Customer
from widget_server.notifications.models import EmailMessage
from widget_server.tenancy.models import Merchant


def _load(p):
    merchant = db.session.get(Merchant, p.merchant_id)
    customer = db.session.get(Customer, p.customer_id)
    return merchant, customer, db.session.get(Proposal, p.proposal_id)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_proposal_is_numbered_priced_as_an_order_and_sent_by_email(app, portal):
    p = portal()
    add_proposal(app, p)
    second = add_proposal(app, p)
    with app.app_context():
        merchant, _, proposal = _load(p)
        first = db.session.scalar(select(Proposal).order_by(Proposal.id))
        assert (first.number, proposal.number) == ("PRO-00001", "PRO-00002")
        assert proposal.id == second and proposal.status == SENT
        quote = orders.quote(merchant, [orders.Item(p.plan_id, 2), orders.Item(p.setup_id, 1)])
        assert proposal.total_minor == quote.first_minor == 2 * 1190 + 5950
        assert (proposal.net_minor, proposal.tax_minor) == (quote.net_minor, quote.tax_minor)
        assert [line.recurring for line in proposal.lines] == [True, False]
        sent = db.session.scalars(select(EmailMessage).where(
            EmailMessage.email_type == "proposal_sent")).all()
        assert {m.to_address for m in sent} == {"jane@example.test", "ap@example.test"}
        assert all(f"/proposals/{m_id}" in m.text_body
                   for m, m_id in zip(sent[-2:], [second] * 2, strict=True))


def test_accepting_places_one_order_and_a_second_accept_gives_it_back(app, portal):
    p = portal()
    add_proposal(app, p)
    with app.app_context():
        merchant, customer, proposal = _load(p)
        order = proposals.accept(merchant, customer, proposal, name="  jane   DOE ",
                                 client_ip="203.0.113.7", today=merchant.today())
        db.session.commit()
        assert order.recurring and order.request_key == f"proposal:{proposal.id}"
        assert proposal.status == ACCEPTED and proposal.order_id == order.id
        assert (proposal.accepted_name, proposal.accepted_ip) == ("jane DOE", "203.0.113.7")
        assert proposal.decided_at is not None
        invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
        assert invoice.total_minor == proposal.total_minor  # plan and the one-time setup
        again = proposals.accept(merchant, customer, proposal, name="Jane Doe",
                                 client_ip="198.51.100.1", today=merchant.today())
        db.session.commit()
        assert again.id == order.id and _count(Order) == 1 and _count(Invoice) == 1
        assert proposal.accepted_ip == "203.0.113.7"
        with pytest.raises(DomainError) as refused:
            proposals.decline(merchant, customer, proposal, reason="Too dear",
                              today=merchant.today())
        assert refused.value.status == 409


def test_an_expired_proposal_cannot_be_accepted(app, portal):
    p = portal()
    add_proposal(app, p, days=0)
    with app.app_context():
        merchant, customer, proposal = _load(p)
        tomorrow = merchant.today() + timedelta(days=1)
        assert proposal.state(merchant.today()) == SENT
        assert proposal.state(tomorrow) == "expired"
        with pytest.raises(DomainError) as refused:
            proposals.accept(merchant, customer, proposal, name="Jane Doe", client_ip="",
                             today=tomorrow)
        assert refused.value.code == "expired"
        assert refused.value.message == "This proposal has expired: it can no longer be accepted."
        db.session.rollback()
        assert _count(Order) == 0 and db.session.get(Proposal, p.proposal_id).status == SENT


def test_the_typed_name_must_be_the_customers_full_name(app, portal):
    p = portal()
    add_proposal(app, p)
    with app.app_context():
        merchant, customer, proposal = _load(p)
        for typed, field in (("", "name"), ("Jane", "name"), ("John Doe", "name")):
            with pytest.raises(DomainError) as refused:
                proposals.accept(merchant, customer, proposal, name=typed, client_ip="",
                                 today=merchant.today())
            assert refused.value.field == field
        assert _count(Order) == 0


def test_another_customers_proposal_is_nobodys_business(app, portal):
    p = portal()
    add_proposal(app, p)
    with app.app_context():
        merchant, _, proposal = _load(p)
        other = Customer(merchant_id=merchant.id, first_name="Jane", last_name="Doe",
                         custom_fields={})
        db.session.add(other)
        db.session.flush()
        assert proposals.visible_to_customer(merchant, other, proposal.id) is None
        for act in (lambda: proposals.accept(merchant, other, proposal, name="Jane Doe",
                                             client_ip="", today=merchant.today()),
                    lambda: proposals.decline(merchant, other, proposal, reason="No",
                                              today=merchant.today())):
            with pytest.raises(DomainError) as refused:
                act()
            assert refused.value.status == 404
        assert proposal.status == SENT


def test_declining_needs_a_reason_and_records_it(app, portal):
    p = portal()
    add_proposal(app, p)
    with app.app_context():
        merchant, customer, proposal = _load(p)
        for reason in ("", "   ", "x" * 1001):
            with pytest.raises(DomainError) as refused:
                proposals.decline(merchant, customer, proposal, reason=reason,
                                  today=merchant.today())
            assert refused.value.field == "reason"
        proposals.decline(merchant, customer, proposal, reason=" We chose another offer. ",
                          today=merchant.today())
        db.session.commit()
        assert (proposal.status, proposal.decline_reason) == (DECLINED,
                                                              "We chose another offer.")
        with pytest.raises(DomainError) as refused:
            proposals.accept(merchant, customer, proposal, name="Jane Doe", client_ip="",
                             today=merchant.today())
        assert refused.value.code == "decided" and _count(Order) == 0


def test_a_price_changed_since_refuses_acceptance(app, portal):
    """The customer accepts what they were shown: a product repriced or withdrawn since makes
    no order at another price."""
    from widget_server.catalogue.models import Product

    p = portal()
    add_proposal(app, p)
    with app.app_context():
        merchant, customer, proposal = _load(p)
        db.session.get(Product, p.setup_id).unit_price_minor = 6950
        with pytest.raises(DomainError) as refused:
            proposals.accept(merchant, customer, proposal, name="Jane Doe", client_ip="",
                             today=merchant.today())
        assert refused.value.code == "changed" and _count(Order) == 0


def test_a_draft_is_not_the_customers_and_a_past_day_is_refused(app, portal):
    p = portal()
    add_proposal(app, p, send=False)
    with app.app_context():
        merchant, customer, proposal = _load(p)
        assert proposals.visible_to_customer(merchant, customer, proposal.id) is None
        assert proposals.list_for_customer(merchant, customer) == []
        with pytest.raises(DomainError) as refused:
            proposals.create(merchant, customer, [orders.Item(p.plan_id, 1)],
                             valid_until=merchant.today() - timedelta(days=1), note="",
                             today=merchant.today())
        assert refused.value.field == "valid_until"
