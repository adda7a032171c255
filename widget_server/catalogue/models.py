"""Catalogue tables. Prices are integer minor units beside a currency column (see `core.money`)."""
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from ..core.extensions import db

# How often a recurring price is billed: every `interval_count` days, weeks, months or years.
INTERVALS = ("day", "week", "month", "year")


class Product(db.Model):
    """A catalogue item: invoice and order lines, the cart and new invoices draw on it.

    A price is one-time (`interval` None) or recurring (issue #21). A product that was sold is
    archived (`active` off), never deleted: lines keep its id.
    """

    __tablename__ = "product"
    __table_args__ = (UniqueConstraint("merchant_id", "sku"),
                      CheckConstraint("tax_rate_bp >= 0 AND tax_rate_bp <= 10000",
                                      name="tax_rate_in_range"),
                      CheckConstraint("interval_count >= 1", name="interval_count_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"),
                                             index=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(default=True)
    # the tax rate in basis points (1900 = 19 %); how it applies: `billing.tax`
    tax_rate_bp: Mapped[int] = mapped_column(default=0, server_default="0")
    interval: Mapped[str | None] = mapped_column(String(8))  # None: a one-time price
    interval_count: Mapped[int] = mapped_column(default=1, server_default="1")
    # offered in the shopping cart widget (issue #22)
    in_cart: Mapped[bool] = mapped_column(default=False, server_default=false())

    @property
    def recurring(self) -> bool:
        return self.interval is not None
