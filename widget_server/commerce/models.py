"""Order, OrderLine and SalesAgent tables."""
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..billing.lines import LineItem
from ..core.database import UTCDateTime, utcnow
from ..core.extensions import db

ORDER_STATUSES = ("open", "cancelled", "invoiced")


class SalesAgent(db.Model):
    __tablename__ = "sales_agent"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"),
                                             index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    active: Mapped[bool] = mapped_column(default=True)


class Order(db.Model):
    __tablename__ = "sales_order"  # "order" is an SQL keyword
    __table_args__ = (UniqueConstraint("merchant_id", "number"),
                      Index("ix_order_customer_keyset", "merchant_id", "customer_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    # an order is money history: never deleted with its customer (RESTRICT; archive instead)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="RESTRICT"))
    number: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    sales_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("sales_agent.id", ondelete="SET NULL"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.position")


class OrderLine(LineItem, db.Model):
    __tablename__ = "order_line"

    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"),
                                          index=True)

    order: Mapped[Order] = relationship(back_populates="lines")
