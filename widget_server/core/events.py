"""Domain events (issue #18; N-1, A-2): what happened, recorded in the transaction of the change.

`record(merchant, "payment.succeeded", payment_id=…, customer_id=…)` adds a `domain_event` row
and calls the subscribers registered for that name (`@subscriber("payment.succeeded")`) at once,
in the same transaction: what they write (outbox emails) commits or rolls back with the change,
and nothing here commits. A subscriber that raises makes the change fail, as an inline call did.

The stored payload holds ids (and flags) only, never a secret: the rows are the outbox that
webhooks will read (issue #25), indexed by (merchant_id, id) for a per-merchant cursor. What a
subscriber needs and must not be stored (a reset link carrying a raw token, a temporary password,
an invitation's text) is passed as `transient={…}`: handed to the subscribers as keyword
arguments, never written. Subscribers are called `fn(merchant, event, **transient)` and
`record` returns their results in registration order (an email subscriber returns the messages it
queued, so a caller can tell whether anything was sent).
"""
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .database import JSONType, UTCDateTime, utcnow
from .extensions import db

NAMES = frozenset({
    "customer.created",
    "customer.merged",  # merged_id moved into customer_id, the survivor (W-10, #23)
    "customer.invited",  # an invitation to the portal (I-1); transient: link, subject, body…
    "credentials.create_requested",  # a create link was issued (C-3, C-5); transient: link
    "credentials.reset_requested",  # a reset link was issued (C-4); transient: link
    "credentials.temporary_password",  # C-7; transient: password
    "credentials.set",  # a password set or changed, by whatever way (C-3, C-4, C-7, C-10)
    "invoice.issued",
    "payment.succeeded",
    "payment.failed",
    "order.created",  # an order placed, by the customer or the admin (#21)
    "order.paid",  # a checkout's order, its first invoice paid: now confirmed (#22)
    "order.cancelled",  # cancelled at once or at its period's end (#21)
    "order.changed",  # its quantity or plan changed (#21)
    "checkout.code_requested",  # a guest's email proof (#22); transient: code, language
    "proposal.sent",  # a proposal sent to its customer (#23, W-9)
    "proposal.accepted",  # accepted by the customer: its order placed (#23)
    "proposal.declined",  # declined by the customer, with a reason (#23)
    "issue.customer_wrote",  # a service issue opened or written in by its customer (#23)
    "issue.answered",  # an admin's reply in a service issue (#23)
    "refund.succeeded",  # money sent back on a payment through its gateway (#24)
    "credit_note.issued",  # a credit note against an invoice (#24)
})

Subscriber = Callable[..., Any]
SUBSCRIBERS: dict[str, list[Subscriber]] = {}


class DomainEvent(db.Model):
    __tablename__ = "domain_event"
    __table_args__ = (Index("ix_domain_event_merchant", "merchant_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def subscriber(name: str):
    """Register the decorated function for the event `name` (a typo fails at import)."""
    if name not in NAMES:
        raise ValueError(f"unknown event {name!r}")

    def register(fn: Subscriber) -> Subscriber:
        SUBSCRIBERS.setdefault(name, []).append(fn)
        return fn

    return register


def _storable(value) -> bool:
    """Ids and flags: an int, a bool, None, or a list of ints. A string could be a secret."""
    if isinstance(value, list | tuple):
        return all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    return value is None or isinstance(value, int)


def record(merchant, name: str, *, transient: Mapping[str, Any] | None = None,
           **payload) -> list:
    """Record the event in the caller's transaction (flushed, not committed) and run its
    subscribers there; returns their results."""
    if name not in NAMES:
        raise ValueError(f"unknown event {name!r}")
    for key, value in payload.items():
        if not _storable(value):
            raise TypeError(f"{name}: {key} is not an id or a flag; pass it as transient")
    event = DomainEvent(merchant_id=merchant.id, name=name,
                        payload={k: list(v) if isinstance(v, tuple) else v
                                 for k, v in payload.items()})
    db.session.add(event)
    db.session.flush()
    return [fn(merchant, event, **(transient or {})) for fn in SUBSCRIBERS.get(name, ())]
