"""Billing tables. Amounts are integer minor units beside a currency column (see `money`)."""
from datetime import date, datetime, timedelta

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..catalogue.models import Product  # noqa: F401  (lines name their product)
from ..core.database import JSONType, UTCDateTime, utcnow
from ..core.extensions import db
from .lines import LineItem

INVOICE_STATUSES = ("draft", "issued", "paid", "void")
PAYMENT_STATUSES = ("scheduled", "pending", "succeeded", "failed", "cancelled")
# Where a payment came from: the customer's Pay page, a guest's pay link, autopay on an invoice's
# due date, a date the customer chose, account credit applied to a new invoice, or an admin who
# recorded money received outside the portal (#24: bank transfer, cheque, cash).
PAYMENT_SOURCES = ("browser", "guest", "autopay", "schedule", "credit", "offline")
# How an offline payment arrived (`payment.method` of an "offline" payment), as the admin picks.
OFFLINE_METHODS = {"transfer": "Bank transfer", "cheque": "Cheque", "cash": "Cash"}
REFUND_STATUSES = ("pending", "succeeded", "failed")
# Payments that may still move money: their gateway token is kept until they settle.
OPEN_PAYMENT_STATUSES = ("scheduled", "pending")


class Invoice(db.Model):
    __tablename__ = "invoice"
    __table_args__ = (
        UniqueConstraint("merchant_id", "number"),
        # The widget lists a customer's invoices newest first with keyset pagination.
        Index("ix_invoice_customer_keyset", "merchant_id", "customer_id", "id"),
        # the admin's invoice list walks one merchant's invoices by id (issue #24 item 2)
        Index("ix_invoice_merchant_keyset", "merchant_id", "id"),
        Index("ix_invoice_customer_open", "merchant_id", "customer_id", "status", "due_date"),
        # the dashboard's receivables: the merchant's open invoices, read from the index (#24)
        Index("ix_invoice_merchant_status_due", "merchant_id", "status", "due_date",
              "balance_minor"),
        CheckConstraint("balance_minor >= 0", name="balance_not_negative"),
        CheckConstraint("balance_minor <= total_minor", name="balance_within_total"),
        # credit notes never credit more than the invoice was for (#24)
        CheckConstraint("credited_minor >= 0 AND credited_minor <= total_minor",
                        name="credited_within_total"),
        # a customer's "Create invoice" form, posted twice, makes one invoice
        UniqueConstraint("merchant_id", "customer_id", "request_key"),
        # an order's period is invoiced once, whatever crashes or races (issue #21)
        UniqueConstraint("order_id", "period_start", name="uq_invoice_order_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="RESTRICT"))
    number: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    balance_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    issue_date: Mapped[date | None]
    due_date: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    request_key: Mapped[str | None] = mapped_column(String(40))
    # The payment in flight for this invoice (W-3): taken by one conditional UPDATE before the
    # gateway is called and released when it settles, so two tabs never charge it twice.
    payment_claim_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # The order and billing period this invoice bills (issue #21); None for other invoices.
    # RESTRICT: money history is never deleted with its order.
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("sales_order.id", ondelete="RESTRICT", use_alter=True), index=True)
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    # What the invoice's credit notes took back (#24), raised with a conditional UPDATE.
    credited_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    lines: Mapped[list["InvoiceLine"]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.position")

    @property
    def period_last_day(self) -> date | None:
        """The last day the invoice bills (its period ends the day before the next starts):
        what an invoice prints as its service period ("29.11.2026 – 28.12.2026")."""
        if self.period_end is None:
            return self.period_start
        return self.period_end - timedelta(days=1)


class InvoiceLine(LineItem, db.Model):
    __tablename__ = "invoice_line"

    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"),
                                            index=True)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class Payment(db.Model):
    __tablename__ = "payment"
    __table_args__ = (Index("ix_payment_customer_keyset", "merchant_id", "customer_id", "id"),
                      Index("ix_payment_merchant_keyset", "merchant_id", "id"),  # admin list
                      CheckConstraint("amount_minor > 0", name="amount_positive"),
                      # one charge per payment attempt, however often it is submitted (W-3)
                      UniqueConstraint("merchant_id", "idempotency_key"),
                      # the admin and the gateways look payments up by their reference
                      Index("ix_payment_reference", "merchant_id", "reference"),
                      # the receipt number a person quotes (W-12), one per merchant
                      UniqueConstraint("merchant_id", "number", name="uq_payment_number"),
                      # refunds never give back more than was paid (#24)
                      CheckConstraint("refunded_minor >= 0 AND refunded_minor <= amount_minor",
                                      name="refunded_within_amount"))

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="RESTRICT"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    source: Mapped[str] = mapped_column(String(16), default="browser", server_default="browser")
    method: Mapped[str] = mapped_column(String(16), default="card")  # card | ach
    reference: Mapped[str] = mapped_column(String(100), default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    # what the customer sees of the method: brand and last four, never the number (PCI)
    method_label: Mapped[str] = mapped_column(String(60), default="", server_default="")
    failure_message: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Edit Effective Date: the day the worker charges a scheduled payment (W-3).
    scheduled_for: Mapped[date | None]
    # The gateway's token (never card data), kept only while the payment may still be charged
    # (scheduled, or pending after a timeout); cleared when it settles.
    method_token: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # What the customer asked for, applied when the charge succeeds, possibly later:
    # {"invoice_ids": [...], "save": bool, "autopay": bool, "kind": "card"}
    plan: Mapped[dict] = mapped_column(JSONType, default=dict, server_default="{}")
    # The receipt number (W-12, #20): taken from the merchant's "payment" counter when the
    # payment succeeds, so receipts are numbered without gaps; None until then.
    number: Mapped[int | None] = mapped_column(BigInteger)
    # What its refunds hold (#24): raised by one conditional UPDATE before the gateway is
    # asked (so two refunds never give back more than was paid), lowered again if one fails.
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # The day an offline payment was received, as the admin states it (#24); None otherwise.
    received_on: Mapped[date | None]

    allocations: Mapped[list["PaymentAllocation"]] = relationship(
        back_populates="payment", cascade="all, delete-orphan")


    @property
    def receipt_number(self) -> str:
        """What a person quotes ("PAY-00001"); never the gateway's reference."""
        return f"PAY-{self.number:05d}" if self.number is not None else ""

    @property
    def refundable_minor(self) -> int:
        """What may still be refunded: a succeeded payment through a gateway, less its refunds
        (an offline or account-credit payment has no gateway to send money back through)."""
        if self.status != "succeeded" or self.source in ("credit", "offline"):
            return 0
        return self.amount_minor - (self.refunded_minor or 0)


class PaymentAllocation(db.Model):
    """How much of a payment went to which invoice; the unallocated rest is account credit."""

    __tablename__ = "payment_allocation"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="CASCADE"),
                                            index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"),
                                            index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)

    payment: Mapped[Payment] = relationship(back_populates="allocations")
    invoice: Mapped[Invoice] = relationship()  # the receipt names what it paid (W-12)


class PaymentMethod(db.Model):
    """A card or bank account kept on file (W-4): the gateway's reusable token and what the
    customer recognises it by. Never the number: the gateway holds that (PCI)."""

    __tablename__ = "payment_method"
    __table_args__ = (Index("ix_payment_method_customer", "merchant_id", "customer_id"),
                      UniqueConstraint("merchant_id", "customer_id", "token"))

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(8))  # card | ach
    token: Mapped[str] = mapped_column(String(255))
    label: Mapped[str] = mapped_column(String(60))
    expires: Mapped[str] = mapped_column(String(7), default="")  # "MM/YY" for cards
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GatewayEvent(db.Model):
    """A webhook event already handled: providers deliver at least once, so each event id is
    processed once."""

    __tablename__ = "gateway_event"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(100), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Refund(db.Model):
    """Money sent back to a customer through the gateway of the payment it refunds (#24, T-7).

    The invoices the payment paid stay paid (Stripe's and Chargebee's model): the refund is
    recorded against the payment, whose `refunded_minor` says how much of it went back."""

    __tablename__ = "refund"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),
                      CheckConstraint("status in ('pending', 'succeeded', 'failed')",
                                      name="status_known"),
                      # the same refund form, posted twice, refunds once
                      UniqueConstraint("merchant_id", "idempotency_key"),
                      UniqueConstraint("merchant_id", "number"),
                      Index("ix_refund_customer", "merchant_id", "customer_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="RESTRICT"))
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="RESTRICT"),
                                            index=True)
    number: Mapped[str | None] = mapped_column(String(32))  # "REF-00001", once succeeded
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(300), default="", server_default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reference: Mapped[str] = mapped_column(String(100), default="", server_default="")
    idempotency_key: Mapped[str] = mapped_column(String(64))
    failure_message: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    payment: Mapped[Payment] = relationship()


class CreditNote(db.Model):
    """A credit note against an invoice (#24, T-7): it takes `applied_minor` off the invoice's
    balance (never below zero) and gives the rest, `credit_minor`, to the customer's account
    credit. `amount_minor` is tax included; `tax_minor` is its tax, in the invoice's proportion."""

    __tablename__ = "credit_note"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),
                      CheckConstraint("applied_minor >= 0 AND credit_minor >= 0 AND "
                                      "applied_minor + credit_minor = amount_minor",
                                      name="split_adds_up"),
                      UniqueConstraint("merchant_id", "number"),
                      UniqueConstraint("merchant_id", "idempotency_key"),
                      Index("ix_credit_note_customer", "merchant_id", "customer_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="RESTRICT"))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="RESTRICT"),
                                            index=True)
    number: Mapped[str] = mapped_column(String(32))  # "CN-00001"
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    applied_minor: Mapped[int] = mapped_column(BigInteger)
    credit_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(300))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    issue_date: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    invoice: Mapped[Invoice] = relationship()
