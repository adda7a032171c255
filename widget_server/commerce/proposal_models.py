"""Proposal and ProposalLine tables (issue #23 item 1, SPEC W-9): a quote the merchant writes
for a customer from catalogue lines, valid until a day; the customer accepts it (typing their
full name: name, time and client address recorded) or declines it (with a reason). Accepting
places an order through `commerce.orders`, linked here; a proposal is money history, never
deleted with its customer or order (RESTRICT).

Statuses stored: draft, sent, accepted, declined. "Expired" is a sent proposal whose valid-until
day has passed in the merchant's calendar: computed (`state`), as an invoice's "overdue" is.
"""
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..billing.lines import LineItem
from ..core.database import UTCDateTime, utcnow
from ..core.extensions import db

DRAFT, SENT, ACCEPTED, DECLINED, EXPIRED = "draft", "sent", "accepted", "declined", "expired"
STORED_STATUSES = (DRAFT, SENT, ACCEPTED, DECLINED)
STATUSES = (DRAFT, SENT, ACCEPTED, DECLINED, EXPIRED)  # as people read them


class Proposal(db.Model):
    __tablename__ = "proposal"
    __table_args__ = (UniqueConstraint("merchant_id", "number"),
                      Index("ix_proposal_customer_keyset", "merchant_id", "customer_id", "id"),
                      Index("ix_proposal_merchant_keyset", "merchant_id", "id"),
                      CheckConstraint("status IN ('draft', 'sent', 'accepted', 'declined')",
                                      name="status_known"))

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="RESTRICT"))
    number: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    currency: Mapped[str] = mapped_column(String(3))
    valid_until: Mapped[date]
    # the billing period of its recurring lines (as the order will have); None: all one-time
    interval: Mapped[str | None] = mapped_column(String(8))
    interval_count: Mapped[int] = mapped_column(default=1, server_default="1")
    note: Mapped[str] = mapped_column(String(2000), default="")
    # the first invoice of the order it would make (every line, gross), and its split
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    net_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # accepted or declined
    accepted_name: Mapped[str | None] = mapped_column(String(200))
    accepted_ip: Mapped[str | None] = mapped_column(String(64))
    decline_reason: Mapped[str | None] = mapped_column(String(1000))
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("sales_order.id", ondelete="RESTRICT"))

    lines: Mapped[list["ProposalLine"]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan",
        order_by="ProposalLine.position")

    @property
    def period_minor(self) -> int:
        """What each period after the first costs: the recurring lines (0 when none)."""
        return sum(line.amount_minor for line in self.lines if line.recurring)

    def state(self, today: date) -> str:
        """The status as people read it: a sent proposal past its valid-until day is expired."""
        if self.status == SENT and self.valid_until < today:
            return EXPIRED
        return self.status

    def is_open(self, today: date) -> bool:
        return self.state(today) == SENT


class ProposalLine(LineItem, db.Model):
    __tablename__ = "proposal_line"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"),
                                             index=True)
    # billed every period of the order (a recurring price) or once, with its first invoice
    recurring: Mapped[bool] = mapped_column(default=False, server_default="0")

    proposal: Mapped[Proposal] = relationship(back_populates="lines")
