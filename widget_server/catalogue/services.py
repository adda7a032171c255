"""Reading the catalogue, always within one merchant."""
from sqlalchemy import select

from ..core.extensions import db
from .models import Product


def has_products(merchant) -> bool:
    return db.session.scalar(select(Product.id).where(Product.merchant_id == merchant.id)
                             .limit(1)) is not None


def active_products(merchant) -> list[Product]:
    """What a customer may pick (New invoice today; the cart next), by name."""
    return list(db.session.scalars(select(Product).where(Product.merchant_id == merchant.id,
                                                         Product.active.is_(True))
                                   .order_by(Product.name)))
