"""Merchant and AdminUser tables."""
import secrets
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.database import JSONType, UTCDateTime, utcnow
from ..core.extensions import db
from .permissions import Permission, role_grants


class Merchant(db.Model):
    """A tenant. Every customer and billing row carries a `merchant_id` pointing here (T-1)."""

    __tablename__ = "merchant"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    locale: Mapped[str] = mapped_column(String(16), default="en_US")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Merchant configuration (T-3), validated by `tenancy.configuration.CONFIG_SECTIONS`.
    config: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The Stripe connected account of the Payments section, kept beside it as an indexed,
    # unique column: webhooks find their merchant by it, and no two merchants can hold it.
    stripe_account_id: Mapped[str | None] = mapped_column(String(255), unique=True)

    admins: Mapped[list["AdminUser"]] = relationship(back_populates="merchant")

    def today(self) -> date:
        """Today in the merchant's time zone: "overdue" follows the merchant's calendar."""
        return datetime.now(ZoneInfo(self.timezone)).date()

    def local_date(self, moment: datetime) -> date:
        """The merchant's calendar day of a stored (UTC) moment: receipts and histories show
        the day the merchant's customers lived it."""
        return moment.astimezone(ZoneInfo(self.timezone)).date()

    def __repr__(self) -> str:
        return f"<Merchant {self.slug}>"


class AdminUser(UserMixin, db.Model):
    """A merchant's staff member who signs in to /admin (T-2)."""

    __tablename__ = "admin_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"),
                                             index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default="staff")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the Flask-Login id: rotating it ends every session of this user on the server.
    session_token: Mapped[str] = mapped_column(String(43),
                                               default=lambda: secrets.token_urlsafe(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    merchant: Mapped[Merchant] = relationship(back_populates="admins")

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def can(self, permission: Permission) -> bool:
        return role_grants(self.role, permission)

    def end_all_sessions(self) -> None:
        self.session_token = secrets.token_urlsafe(32)
