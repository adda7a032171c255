"""The columns every priced line shares (invoice lines, order lines) and how one is priced."""
from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


class LineItem:
    """Mixin: a product, a quantity and its price, copied at the time of sale so later catalogue
    changes never rewrite history."""

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[int] = mapped_column(default=1)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)

    @declared_attr
    def merchant_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))

    @declared_attr
    def product_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("product.id", ondelete="SET NULL"))

    @classmethod
    def for_product(cls, merchant, product, quantity: int, position: int):
        if product.merchant_id != merchant.id or product.currency != merchant.currency:
            raise ValueError("product from another merchant or currency")
        return cls(merchant_id=merchant.id, product_id=product.id, position=position,
                   description=product.name, quantity=quantity,
                   unit_price_minor=product.unit_price_minor,
                   amount_minor=product.unit_price_minor * quantity)
