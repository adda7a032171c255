"""Allow Add Sales Agent (P-4, issue #21 item 5): the customer attaches one of the merchant's
active sales agents to their account. Services own the rule: only this merchant's active agents
can be attached; the customer's choice replaces the one before.
"""
from collections import namedtuple

from sqlalchemy import bindparam, or_, select

from ..core.domain import DomainError
from ..core.extensions import db
from ..core.reads import Read
from .models import SalesAgent

AgentChoice = namedtuple("AgentChoice", "id name active")


def page_agents_select(merchant, own):
    """The Orders page's agents: the merchant's active ones and the customer's own (even
    inactive), as (id, name, active). `merchant` and `own` are bound parameters; the Orders
    page reads them in its orders' statement (`order_lists`), a page of newer orders here."""
    return (select(SalesAgent.id, SalesAgent.name, SalesAgent.active)
            .where(SalesAgent.merchant_id == merchant,
                   or_(SalesAgent.active.is_(True), SalesAgent.id == own)))


# rows read through the driver (the ORM's query was a seventh of the page, #26)
PAGE_AGENTS = Read(page_agents_select(bindparam("merchant"), bindparam("own"))
                   .order_by(SalesAgent.name, SalesAgent.id))


def page_agents(merchant, customer) -> tuple[list, object | None]:
    """(the active agents the customer may choose from, their own agent or None), as rows
    with `id` and `name`."""
    return agent_choices(PAGE_AGENTS.all(merchant=merchant.id, own=customer.sales_agent_id or 0),
                         customer)


def agent_choices(rows: list, customer) -> tuple[list, object | None]:
    """`page_agents`' answer from `page_agents_select`'s rows, in its order."""
    own = next((row for row in rows if row.id == customer.sales_agent_id), None)
    return [row for row in rows if row.active], own


def agent_of(merchant, customer) -> SalesAgent | None:
    if customer.sales_agent_id is None:
        return None
    agent = db.session.get(SalesAgent, customer.sales_agent_id)
    return agent if agent is not None and agent.merchant_id == merchant.id else None


def attach_to_customer(merchant, customer, agent_id: int | None) -> SalesAgent:
    """Attach the merchant's active agent `agent_id` to the customer's account."""
    agent = db.session.get(SalesAgent, agent_id) if agent_id else None
    if agent is None or agent.merchant_id != merchant.id or not agent.active:
        raise DomainError("Choose one of the listed sales agents.", "sales_agent")
    customer.sales_agent_id = agent.id
    db.session.flush()
    return agent
