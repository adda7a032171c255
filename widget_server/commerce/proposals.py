"""Proposals (quotes) (issue #23 item 1, SPEC W-9): the merchant writes one for a customer from
catalogue lines, priced and taxed as orders price them (`orders.quote`), with a valid-until day
and a note, and sends it (the Proposal Sent email, through the `proposal.sent` event); the
customer accepts it by typing their full name (name, time and client address recorded) or
declines it with a reason.

Accepting places an order through `orders.place` (recurring lines a subscription, one-time lines
invoiced with its first period). It is claimed by one conditional UPDATE of the proposal's
status (sent → accepted, while still valid), the first write of the transaction: of two
requests at once (a double click, two tabs) exactly one moves the status and places the order;
the other finds it accepted and answers with the same order. The order's request key
`proposal:<id>` (unique per customer) is the backstop: one proposal never makes two orders.
"""
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from ..core import events
from ..core.database import utcnow
from ..core.domain import DomainError
from ..core.extensions import db
from ..core.paging import page_after
from ..customers.models import Customer
from ..tenancy.counters import next_number
from . import customer_agents, orders
from .models import Order
from .proposal_models import ACCEPTED, DECLINED, DRAFT, EXPIRED, SENT, Proposal, ProposalLine

PROPOSAL_SEQUENCE = "proposal"
MAX_NOTE = 2000
MAX_REASON = 1000
MAX_NAME = 200

# The messages a customer may meet, word for word (the widget translates them).
EXPIRED_MESSAGE = "This proposal has expired: it can no longer be accepted."
CHANGED = ("The products or prices of this proposal are no longer offered: ask for a new "
           "proposal.")
NAME_NEEDED = "Type your full name to accept."
NAME_MISMATCH = "Type your full name as it stands on your account."
REASON_NEEDED = "Tell us why you decline."
REASON_TOO_LONG = "Keep the reason under 1,000 characters."
DECIDED = "This proposal is already answered."
NOT_OPEN = "This proposal is not open."


def next_proposal_number(merchant) -> str:
    return f"PRO-{next_number(merchant, PROPOSAL_SEQUENCE):05d}"


def create(merchant, customer, items: list[orders.Item], *, valid_until: date | None,
           note: str, today: date) -> Proposal:
    """A draft proposal for the customer: its lines priced from the active catalogue as an
    order would be (the same rules: quantities, one billing period for recurring products)."""
    errors = {}
    if valid_until is None:
        errors["valid_until"] = "Enter the last day the proposal can be accepted."
    elif valid_until < today:
        errors["valid_until"] = "The valid-until day cannot be in the past."
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        errors["note"] = "Keep the note under 2,000 characters."
    if customer.merchant_id != merchant.id:
        raise DomainError("Choose one of your customers.", "customer", status=404)
    if errors:
        raise DomainError.of(errors)
    quote = orders.quote(merchant, items)
    proposal = Proposal(merchant_id=merchant.id, customer_id=customer.id,
                        number=next_proposal_number(merchant), status=DRAFT,
                        currency=merchant.currency, valid_until=valid_until, note=note,
                        interval=quote.interval, interval_count=quote.interval_count,
                        total_minor=quote.first_minor, net_minor=quote.net_minor,
                        tax_minor=quote.tax_minor)
    for line in quote.lines:
        proposal.lines.append(ProposalLine(
            merchant_id=merchant.id, product_id=line.product_id, position=line.position,
            description=line.description, quantity=line.quantity,
            unit_price_minor=line.unit_price_minor, amount_minor=line.amount_minor,
            net_minor=line.net_minor, tax_rate_bp=line.tax_rate_bp, tax_minor=line.tax_minor,
            recurring=line.recurring))
    db.session.add(proposal)
    db.session.flush()
    return proposal


def send(merchant, proposal: Proposal, today: date) -> Proposal:
    """Send a draft to the customer: it becomes visible in their portal, and the Proposal
    Sent email (with its link) is queued in this transaction."""
    if proposal.status != DRAFT:
        raise DomainError("This proposal was already sent.", status=409)
    if proposal.valid_until < today:
        raise DomainError("Its valid-until day has passed: write a new proposal.", "valid_until",
                          status=409)
    proposal.status, proposal.sent_at = SENT, utcnow()
    db.session.flush()
    events.record(merchant, "proposal.sent", proposal_id=proposal.id,
                  customer_id=proposal.customer_id)
    return proposal


def _check_open(proposal: Proposal, today: date) -> None:
    state = proposal.state(today)
    if state == EXPIRED:
        raise DomainError(EXPIRED_MESSAGE, code="expired", status=409)
    if state in (ACCEPTED, DECLINED):
        raise DomainError(DECIDED, code="decided", status=409)
    if state != SENT:
        raise DomainError(NOT_OPEN, code="not_open", status=404)


def _items(merchant, proposal: Proposal) -> list[orders.Item]:
    """The proposal's lines as order items, refused when the catalogue no longer offers them at
    the proposal's prices (the customer accepts what they were shown, nothing else)."""
    items = [orders.Item(line.product_id or 0, line.quantity) for line in proposal.lines]
    try:
        quote = orders.quote(merchant, items)
    except DomainError:
        raise DomainError(CHANGED, code="changed", status=409) from None
    now = [(ln.product_id, ln.quantity, ln.amount_minor, ln.tax_minor, ln.recurring)
           for ln in quote.lines]
    then = [(ln.product_id, ln.quantity, ln.amount_minor, ln.tax_minor, ln.recurring)
            for ln in proposal.lines]
    if now != then:
        raise DomainError(CHANGED, code="changed", status=409)
    return items


def _same_name(typed: str, customer: Customer) -> bool:
    wanted = " ".join(customer.contact_name.split()).casefold()
    return not wanted or typed.casefold() == wanted


def accept(merchant, customer, proposal: Proposal, *, name: str, client_ip: str,
           today: date) -> Order:
    """Accept the customer's open proposal: their typed full name, the moment and their
    address are recorded and the order is placed (its first period billed today). Accepting
    an accepted proposal again gives back its order."""
    if proposal.customer_id != customer.id or proposal.merchant_id != merchant.id:
        raise DomainError(NOT_OPEN, code="not_open", status=404)
    if proposal.status == ACCEPTED and proposal.order_id is not None:
        return db.session.get(Order, proposal.order_id)
    _check_open(proposal, today)
    typed = " ".join((name or "").split())
    if not typed:
        raise DomainError(NAME_NEEDED, "name")
    if len(typed) > MAX_NAME or not _same_name(typed, customer):
        raise DomainError(NAME_MISMATCH, "name")
    items = _items(merchant, proposal)
    claimed = db.session.execute(
        update(Proposal).where(Proposal.id == proposal.id, Proposal.status == SENT,
                               Proposal.valid_until >= today)
        .values(status=ACCEPTED, decided_at=utcnow(), accepted_name=typed,
                accepted_ip=(client_ip or "")[:64])
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # another tab answered it a moment ago
        db.session.refresh(proposal)
        if proposal.status == ACCEPTED and proposal.order_id is not None:
            return db.session.get(Order, proposal.order_id)
        _check_open(proposal, today)
        raise DomainError(DECIDED, code="decided", status=409)
    db.session.refresh(proposal)
    agent = customer_agents.agent_of(merchant, customer)
    order = orders.place(merchant, customer, items, today,
                         sales_agent_id=agent.id if agent is not None and agent.active else None,
                         request_key=f"proposal:{proposal.id}")
    proposal.order_id = order.id
    db.session.flush()
    events.record(merchant, "proposal.accepted", proposal_id=proposal.id,
                  customer_id=customer.id, order_id=order.id)
    return order


def decline(merchant, customer, proposal: Proposal, *, reason: str, today: date) -> Proposal:
    """Decline the customer's open proposal, with their reason."""
    if proposal.customer_id != customer.id or proposal.merchant_id != merchant.id:
        raise DomainError(NOT_OPEN, code="not_open", status=404)
    _check_open(proposal, today)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(REASON_NEEDED, "reason")
    if len(reason) > MAX_REASON:
        raise DomainError(REASON_TOO_LONG, "reason")
    claimed = db.session.execute(
        update(Proposal).where(Proposal.id == proposal.id, Proposal.status == SENT)
        .values(status=DECLINED, decided_at=utcnow(), decline_reason=reason)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise DomainError(DECIDED, code="decided", status=409)
    db.session.refresh(proposal)
    events.record(merchant, "proposal.declined", proposal_id=proposal.id,
                  customer_id=customer.id)
    return proposal


def get_proposal(merchant, proposal_id: int, customer_id: int | None = None) -> Proposal | None:
    stmt = select(Proposal).where(Proposal.merchant_id == merchant.id, Proposal.id == proposal_id)
    if customer_id is not None:
        stmt = stmt.where(Proposal.customer_id == customer_id)
    return db.session.scalar(stmt)


def of_order(merchant, order) -> Proposal | None:
    """The proposal whose acceptance placed `order`, if one did."""
    return db.session.scalar(select(Proposal).where(Proposal.merchant_id == merchant.id,
                                                    Proposal.order_id == order.id))


def visible_to_customer(merchant, customer, proposal_id: int) -> Proposal | None:
    """The customer's own proposal, once sent (a draft is the merchant's alone)."""
    proposal = get_proposal(merchant, proposal_id, customer_id=customer.id)
    return proposal if proposal is not None and proposal.status != DRAFT else None


def list_for_customer(merchant, customer, *, limit: int = 100) -> list[Proposal]:
    """The customer's sent proposals, newest first, their lines loaded with them."""
    return list(db.session.scalars(
        select(Proposal).options(selectinload(Proposal.lines))
        .where(Proposal.merchant_id == merchant.id, Proposal.customer_id == customer.id,
               Proposal.status != DRAFT)
        .order_by(Proposal.id.desc()).limit(limit)))


def list_proposals(merchant, *, status: str | None = None, customer_id: int | None = None,
                   before_id: int | None = None, today: date | None = None,
                   limit: int = 50) -> list[tuple[Proposal, Customer]]:
    """(proposal, customer) pairs for the admin, newest first by keyset on the id; `status`
    may be "expired" (sent, past its valid-until day) or "sent" (sent and still open)."""
    stmt = (select(Proposal, Customer).join(Customer, Customer.id == Proposal.customer_id)
            .where(Proposal.merchant_id == merchant.id, Customer.merchant_id == merchant.id))
    today = today or merchant.today()
    if status == EXPIRED:
        stmt = stmt.where(Proposal.status == SENT, Proposal.valid_until < today)
    elif status == SENT:
        stmt = stmt.where(Proposal.status == SENT, Proposal.valid_until >= today)
    elif status:
        stmt = stmt.where(Proposal.status == status)
    if customer_id is not None:
        stmt = stmt.where(Proposal.customer_id == customer_id)
    if before_id is not None:
        stmt = stmt.where(Proposal.id < before_id)
    return [tuple(row) for row in db.session.execute(stmt.order_by(Proposal.id.desc())
                                                      .limit(limit))]


def proposals_after(merchant, *, status: str | None = None, customer_id: int | None = None,
                    limit: int = 10, starting_after: int | None = None,
                    today: date | None = None) -> tuple[list[Proposal], bool]:
    """A page of the merchant's proposals in id order after `starting_after` (the API's cursor,
    #25), with their lines; `status` as people read it ("expired": sent, past its day; "sent":
    sent and still open)."""
    stmt = select(Proposal).where(Proposal.merchant_id == merchant.id).options(
        selectinload(Proposal.lines))
    today = today or merchant.today()
    if status == EXPIRED:
        stmt = stmt.where(Proposal.status == SENT, Proposal.valid_until < today)
    elif status == SENT:
        stmt = stmt.where(Proposal.status == SENT, Proposal.valid_until >= today)
    elif status:
        stmt = stmt.where(Proposal.status == status)
    return page_after(stmt, Proposal.id, limit=limit, starting_after=starting_after,
                      customer_id=customer_id)
