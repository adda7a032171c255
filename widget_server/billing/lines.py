"""The columns every priced line shares (invoice lines, order lines) and how one is priced."""
from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from ..tenancy.configuration import prices_include_tax as merchant_prices_include_tax
from .tax import line_amounts


class LineItem:
    """Mixin: a product, a quantity and its price, copied at the time of sale so later catalogue
    changes never rewrite history.

    `amount_minor` is the line's gross (what the customer pays for it); `net_minor` and
    `tax_minor` split it at `tax_rate_bp` (basis points) by the rule in `billing.tax`. Lines from
    before tax was recorded have rate 0 and net = gross.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[int] = mapped_column(default=1)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    net_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    tax_rate_bp: Mapped[int] = mapped_column(default=0, server_default="0")
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    @declared_attr
    def merchant_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))

    @declared_attr
    def product_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("product.id", ondelete="SET NULL"))

    @classmethod
    def priced(cls, merchant, *, description: str, quantity: int, unit_price_minor: int,
               tax_rate_bp: int, prices_include_tax: bool, position: int = 0,
               product_id: int | None = None):
        """A line whose amounts follow the tax rule; `unit_price_minor` may be negative (a
        credit such as a proration)."""
        amounts = line_amounts(unit_price_minor * quantity, tax_rate_bp, prices_include_tax)
        return cls(merchant_id=merchant.id, product_id=product_id, position=position,
                   description=description, quantity=quantity,
                   unit_price_minor=unit_price_minor, amount_minor=amounts.gross_minor,
                   net_minor=amounts.net_minor, tax_rate_bp=tax_rate_bp,
                   tax_minor=amounts.tax_minor)

    @classmethod
    def for_product(cls, merchant, product, quantity: int, position: int, *,
                    prices_include_tax: bool | None = None):
        if product.merchant_id != merchant.id or product.currency != merchant.currency:
            raise ValueError("product from another merchant or currency")
        if prices_include_tax is None:
            prices_include_tax = merchant_prices_include_tax(merchant)
        return cls.priced(merchant, description=product.name, quantity=quantity,
                          unit_price_minor=product.unit_price_minor,
                          tax_rate_bp=product.tax_rate_bp or 0,
                          prices_include_tax=prices_include_tax, position=position,
                          product_id=product.id)
