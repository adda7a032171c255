"""Allow Add Sales Agent (P-4, issue #21 item 5): the customer attaches one of the merchant's
active sales agents to their account. Services own the rule: only this merchant's active agents
can be attached; the customer's choice replaces the one before.
"""
from sqlalchemy import bindparam, select

from ..core.domain import DomainError
from ..core.extensions import db
from .models import SalesAgent

# Built once: the widget's Orders page runs it on every view (#26).
ACTIVE_AGENTS = (select(SalesAgent).where(SalesAgent.merchant_id == bindparam("merchant"),
                                          SalesAgent.active.is_(True))
                 .order_by(SalesAgent.name, SalesAgent.id))


def active_agents(merchant) -> list[SalesAgent]:
    return list(db.session.scalars(ACTIVE_AGENTS, {"merchant": merchant.id}))


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
