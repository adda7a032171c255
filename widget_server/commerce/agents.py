"""The merchant's sales agents (issue #21 item 3, P-4): create, edit, deactivate, reactivate.

An agent is never deleted: orders and customers name it. A deactivated agent keeps its name on
those orders but can no longer be chosen for a new one.
"""
from sqlalchemy import select

from ..core import validation
from ..core.domain import DomainError
from ..core.extensions import db
from .models import SalesAgent

NAME_MAX, EMAIL_MAX = 200, 254


def list_agents(merchant, *, active_only: bool = False) -> list[SalesAgent]:
    stmt = select(SalesAgent).where(SalesAgent.merchant_id == merchant.id)
    if active_only:
        stmt = stmt.where(SalesAgent.active.is_(True))
    return list(db.session.scalars(stmt.order_by(SalesAgent.active.desc(), SalesAgent.name,
                                                 SalesAgent.id)))


def get_agent(merchant, agent_id: int) -> SalesAgent | None:
    return db.session.scalar(select(SalesAgent).where(SalesAgent.merchant_id == merchant.id,
                                                      SalesAgent.id == agent_id))


def _clean(name: str | None, email: str | None) -> tuple[str, str]:
    errors: dict[str | None, str] = {}
    name = " ".join((name or "").split())
    email = (email or "").strip()
    if not name:
        errors["name"] = "Enter the agent's name."
    elif len(name) > NAME_MAX:
        errors["name"] = f"The name is at most {NAME_MAX} characters."
    if email:
        if len(email) > EMAIL_MAX:
            errors["email"] = f"The email address is at most {EMAIL_MAX} characters."
        else:
            try:
                email = validation.email_address(email)
            except ValueError as exc:
                errors["email"] = str(exc)
    if errors:
        raise DomainError.of(errors)
    return name, email


def create_agent(merchant, *, name: str, email: str = "") -> SalesAgent:
    name, email = _clean(name, email)
    agent = SalesAgent(merchant_id=merchant.id, name=name, email=email, active=True)
    db.session.add(agent)
    db.session.flush()
    return agent


def update_agent(agent: SalesAgent, *, name: str, email: str = "") -> SalesAgent:
    agent.name, agent.email = _clean(name, email)
    db.session.flush()
    return agent


def set_active(agent: SalesAgent, active: bool) -> SalesAgent:
    """Deactivate (no longer offered for new orders; existing orders keep it) or reactivate."""
    agent.active = active
    db.session.flush()
    return agent
