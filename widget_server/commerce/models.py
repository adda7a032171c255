"""Order, OrderLine and SalesAgent tables (issue #21, SPEC W-7, P-4).

An order associates catalogue items with a customer from a start date, optionally until an end
date, billed every period of its recurring lines (a subscription); its one-time lines are billed
once, with the first period. Each billed period is an invoice carrying `order_id` and
`period_start`, unique together: a period is invoiced once, whatever crashes or races.
"""
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..billing.lines import LineItem
from ..core.database import UTCDateTime, utcnow
from ..core.extensions import db

ACTIVE, CANCELLED, ENDED = "active", "cancelled", "ended"
ORDER_STATUSES = (ACTIVE, CANCELLED, ENDED)


class SalesAgent(db.Model):
    """One of the merchant's sales agents: a customer may attach one to their account (P-4),
    an order may name one."""

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
                      # the customer's New Order form: a double submit makes one order
                      UniqueConstraint("merchant_id", "customer_id", "request_key"),
                      Index("ix_order_customer_keyset", "merchant_id", "customer_id", "id"),
                      # the admin's list: one merchant's orders by id
                      Index("ix_order_merchant_keyset", "merchant_id", "id"),
                      # the billing run's scan: due active orders, in id order
                      Index("ix_order_due", "status", "next_billing_date", "id"),
                      CheckConstraint("interval_count >= 1", name="interval_count_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    # an order is money history: never deleted with its customer (RESTRICT; archive instead)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="RESTRICT"))
    number: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    currency: Mapped[str] = mapped_column(String(3))
    # what one period of the recurring lines costs (gross), for lists; invoices hold the truth
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    sales_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("sales_agent.id", ondelete="SET NULL"))
    # the order's first invoice (kept for orders from before billing periods)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]  # the order ends (is no longer billed) on this day
    # the billing period: every `interval_count` `interval`s; None for a one-time order
    interval: Mapped[str | None] = mapped_column(String(8))
    interval_count: Mapped[int] = mapped_column(default=1, server_default="1")
    # the day of month periods start on (31 Jan → 28/29 Feb → 31 Mar): `commerce.periods`
    anchor_day: Mapped[int] = mapped_column(default=1, server_default="1")
    # the start of the next period to bill; None once nothing more is to be billed
    next_billing_date: Mapped[date | None]
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    request_key: Mapped[str | None] = mapped_column(String(40))

    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.position")

    @property
    def recurring(self) -> bool:
        return self.interval is not None


class OrderLine(LineItem, db.Model):
    __tablename__ = "order_line"

    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"),
                                          index=True)
    # billed every period (a recurring price) or once, with the first period
    recurring: Mapped[bool] = mapped_column(default=False, server_default="0")

    order: Mapped[Order] = relationship(back_populates="lines")


class OrderAdjustment(LineItem, db.Model):
    """A line the order's next invoice carries once (issue #21 item 6): the credit and the
    charge of a plan change's proration (`commerce.changes`). `billed_invoice_id` is set, in the
    transaction that issues that invoice, to the invoice that carried it."""

    __tablename__ = "order_adjustment"
    __table_args__ = (Index("ix_order_adjustment_pending", "order_id", "billed_invoice_id"),)

    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"))
    changed_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    billed_invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoice.id", ondelete="RESTRICT"))


class Cart(db.Model):
    """A shopping cart of the cart widget (issue #22): one per widget session and merchant,
    found by an opaque key the session holds (never an id a visitor could guess). Prices are
    never stored here: every summary prices the lines from the catalogue anew."""

    __tablename__ = "cart"
    __table_args__ = (UniqueConstraint("merchant_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list["CartLine"]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", order_by="CartLine.id")


class CartLine(db.Model):
    __tablename__ = "cart_line"
    __table_args__ = (UniqueConstraint("cart_id", "product_id"),
                      CheckConstraint("quantity >= 1", name="quantity_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("cart.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"),
                                            index=True)
    quantity: Mapped[int] = mapped_column(default=1)

    cart: Mapped[Cart] = relationship(back_populates="lines")
