"""ServiceIssue, its messages and their attachments (#23 item 2, W-9).

An issue belongs to one customer of one merchant, numbered per merchant (`ISS-00001`). Its
thread is a list of messages, each written by the customer or by an admin, each with up to a few
attachments kept in the database (as logos are, `media`), so any app process serves them. An
issue is correspondence, not money: it goes with its customer (CASCADE); an admin who leaves
leaves their messages (SET NULL).
"""
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.database import UTCDateTime, utcnow
from ..core.extensions import db

OPEN, CLOSED = "open", "closed"
ISSUE_STATUSES = (OPEN, CLOSED)
CUSTOMER, ADMIN = "customer", "admin"


class ServiceIssue(db.Model):
    __tablename__ = "service_issue"
    __table_args__ = (UniqueConstraint("merchant_id", "number"),
                      # the customer's list, newest first
                      Index("ix_service_issue_customer", "merchant_id", "customer_id", "id"),
                      # the admin's inbox by status, newest activity first
                      Index("ix_service_issue_inbox", "merchant_id", "status", "updated_at"),
                      CheckConstraint("status in ('open', 'closed')", name="status_known"))

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    assigned_admin_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_user.id", ondelete="SET NULL"))
    # who wrote last: the inbox shows the issues waiting for an answer
    last_author: Mapped[str] = mapped_column(String(16), default=CUSTOMER)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    messages: Mapped[list["ServiceIssueMessage"]] = relationship(
        back_populates="issue", cascade="all, delete-orphan",
        order_by="ServiceIssueMessage.id")

    @property
    def waiting_for_merchant(self) -> bool:
        return self.status == OPEN and self.last_author == CUSTOMER


class ServiceIssueMessage(db.Model):
    __tablename__ = "service_issue_message"
    __table_args__ = (CheckConstraint("author in ('customer', 'admin')", name="author_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    issue_id: Mapped[int] = mapped_column(ForeignKey("service_issue.id", ondelete="CASCADE"),
                                          index=True)
    author: Mapped[str] = mapped_column(String(16))
    admin_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_user.id", ondelete="SET NULL"))
    admin_name: Mapped[str] = mapped_column(String(200), default="")  # as it was when written
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    issue: Mapped[ServiceIssue] = relationship(back_populates="messages")
    attachments: Mapped[list["ServiceIssueAttachment"]] = relationship(
        back_populates="message", cascade="all, delete-orphan",
        order_by="ServiceIssueAttachment.id")


class ServiceIssueAttachment(db.Model):
    __tablename__ = "service_issue_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(
        ForeignKey("service_issue_message.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(120))  # sanitised (`attachments.safe_name`)
    content_type: Mapped[str] = mapped_column(String(40))  # from the bytes, never the claim
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    message: Mapped[ServiceIssueMessage] = relationship(back_populates="attachments")
