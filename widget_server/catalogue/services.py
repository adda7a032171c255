"""The catalogue's rules, always within one merchant (issue #21 item 1): reading it, and
creating, changing, archiving and restoring products. A product is never deleted: invoice and
order lines keep its id, so one no longer sold is archived (`active` off) and may be restored.

Faces parse what was typed with `parse_price` and `parse_tax_rate` and hand the values to
`save_product`; every refusal is a `DomainError` naming the field it is about.
"""
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..billing.tax import MAX_RATE_BP
from ..core import money
from ..core.domain import DomainError
from ..core.extensions import db
from ..core.validation import is_single_line
from .models import INTERVALS, Product

MAX_PRICE_MINOR = 10 ** 12  # ten billion in a two-decimal currency: surely a typing error beyond
MAX_INTERVAL_COUNT = 100
SKU_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)?")


def has_products(merchant) -> bool:
    return db.session.scalar(select(Product.id).where(Product.merchant_id == merchant.id)
                             .limit(1)) is not None


def active_products(merchant) -> list[Product]:
    """What a customer may pick (New invoice today; the cart next), by name."""
    return list(db.session.scalars(select(Product).where(Product.merchant_id == merchant.id,
                                                         Product.active.is_(True))
                                   .order_by(Product.name)))


def list_products(merchant, *, archived: bool = False) -> list[Product]:
    """The admin's list: the products on sale, or the archived ones, by name then SKU."""
    return list(db.session.scalars(
        select(Product).where(Product.merchant_id == merchant.id,
                              Product.active.is_(not archived))
        .order_by(func.lower(Product.name), Product.sku)))


def products_after(merchant, *, limit: int = 10, starting_after: int | None = None,
                   active: bool | None = None) -> tuple[list[Product], bool]:
    """A page of the catalogue in id order after the product `starting_after` (the API's
    cursor), and whether more follow; `active` narrows to those on sale or archived."""
    stmt = select(Product).where(Product.merchant_id == merchant.id)
    if active is not None:
        stmt = stmt.where(Product.active.is_(active))
    if starting_after is not None:
        stmt = stmt.where(Product.id > starting_after)
    rows = list(db.session.scalars(stmt.order_by(Product.id).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def get_product(merchant, product_id: int) -> Product | None:
    return db.session.scalar(select(Product).where(Product.merchant_id == merchant.id,
                                                   Product.id == product_id))


def _decimal(text: str) -> Decimal | None:
    """'12.50' or '12,50' (either decimal mark, no grouping) as a Decimal; None if not so."""
    text = (text or "").strip().replace(" ", "").replace("\u00a0", "")
    if not _NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:  # pragma: no cover (the pattern admits only digits)
        return None


def parse_price(text: str, currency: str) -> int:
    """A price typed as a decimal in `currency` ('12.50', '12,50') in minor units."""
    digits = money.exponent(currency)
    example = "12" if digits == 0 else "12." + "50"[:digits].ljust(digits, "0")
    value = _decimal(text)
    if value is None:
        raise DomainError(f"Enter the price as a number such as {example}, zero or more.",
                          "price")
    if -value.as_tuple().exponent > digits:
        raise DomainError(f"{currency} prices have at most {digits} decimal "
                          f"place{'' if digits == 1 else 's'}.", "price")
    return money.to_minor(value, currency)


def parse_tax_rate(text: str) -> int:
    """A tax rate in percent ('19', '5.5', '7,25') in basis points; empty is 0 %."""
    if not (text or "").strip():
        return 0
    value = _decimal(text)
    if value is None:
        raise DomainError("Enter the tax rate in percent, such as 19 or 5.5.", "tax_rate")
    if -value.as_tuple().exponent > 2:
        raise DomainError("A tax rate has at most 2 decimal places.", "tax_rate")
    return int(value * 100)


@dataclass
class ProductValues:
    sku: str
    name: str
    description: str
    price_minor: int
    tax_rate_bp: int
    interval: str | None  # None: one-time
    interval_count: int = 1
    active: bool = True
    in_cart: bool = False  # offered in the shopping cart widget (#22)


def _check(merchant, values: ProductValues, exclude_id: int | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    sku = values.sku
    if not sku:
        errors["sku"] = "Enter a SKU."
    elif len(sku) > 64 or not SKU_PATTERN.fullmatch(sku):
        errors["sku"] = ("A SKU is up to 64 letters, digits, dots, dashes, underscores or "
                         "slashes, starting with a letter or digit.")
    elif _sku_taken(merchant, sku, exclude_id):
        errors["sku"] = f"The SKU “{sku}” is already used by another of your products."
    if not values.name:
        errors["name"] = "Enter a name."
    elif len(values.name) > 200 or not is_single_line(values.name):
        errors["name"] = "A name is one line of up to 200 characters."
    if len(values.description) > 2000:
        errors["description"] = "A description is up to 2,000 characters."
    if not 0 <= values.price_minor <= MAX_PRICE_MINOR:
        errors["price"] = ("A price is zero or more." if values.price_minor < 0
                           else "That price is too high.")
    if not 0 <= values.tax_rate_bp <= MAX_RATE_BP:
        errors["tax_rate"] = "A tax rate is from 0 to 100 %."
    if values.interval is not None and values.interval not in INTERVALS:
        errors["interval"] = "Choose how often the price is billed."
    if values.interval is not None and not 1 <= values.interval_count <= MAX_INTERVAL_COUNT:
        errors["interval_count"] = f"Bill every 1 to {MAX_INTERVAL_COUNT} periods."
    return errors


def _sku_taken(merchant, sku: str, exclude_id: int | None) -> bool:
    stmt = select(Product.id).where(Product.merchant_id == merchant.id, Product.sku == sku)
    if exclude_id is not None:
        stmt = stmt.where(Product.id != exclude_id)
    return db.session.scalar(stmt.limit(1)) is not None


def save_product(merchant, product: Product | None, values: ProductValues) -> Product:
    """Create a product (`product` None) or change one. Prices are in the merchant's currency.
    Lines already made from a product keep their copied price: a change rewrites no history."""
    values.sku = (values.sku or "").strip()
    values.name = (values.name or "").strip()
    values.description = (values.description or "").strip()
    errors = _check(merchant, values, product.id if product else None)
    if errors:
        raise DomainError.of(errors)
    if product is None:
        product = Product(merchant_id=merchant.id)
        db.session.add(product)
    product.sku, product.name, product.description = values.sku, values.name, values.description
    product.unit_price_minor = values.price_minor
    product.currency = merchant.currency
    product.tax_rate_bp = values.tax_rate_bp
    product.interval = values.interval
    product.interval_count = values.interval_count if values.interval else 1
    product.active = values.active
    product.in_cart = bool(values.in_cart)
    try:
        db.session.flush()
    except IntegrityError as exc:  # two admins saving the same SKU at once
        db.session.rollback()
        raise DomainError(f"The SKU “{values.sku}” is already used by another of your "
                          "products.", "sku") from exc
    return product


def set_active(product: Product, active: bool) -> None:
    """Archive (off: no longer offered on new invoices and orders) or restore a product."""
    product.active = active
    db.session.flush()


def billing_label(product: Product) -> str:
    """'One-time', 'Every month', 'Every 3 months' (the admin's English)."""
    if product.interval is None:
        return "One-time"
    if product.interval_count == 1:
        return f"Every {product.interval}"
    return f"Every {product.interval_count} {product.interval}s"
