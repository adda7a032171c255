"""The shopping cart of the cart widget (issue #22, SPEC W-8): a cart per widget session and
merchant, found by an opaque key the session holds; add, change the quantity, remove, and a
priced summary.

The cart keeps product ids and quantities only: every summary prices the lines anew from the
catalogue with `orders.quote` (the same lines, tax and totals an order would get), so a price
never comes from the visitor. Only the merchant's active products offered in the cart
(`Product.in_cart`) may go in; anything else is refused with a `DomainError`.
"""
import secrets
from dataclasses import dataclass, field

from sqlalchemy import bindparam, delete, select

from ..catalogue.models import Product
from ..core.database import utcnow
from ..core.domain import DomainError
from ..core.extensions import db
from ..core.reads import Read, attach, entity_columns
from . import orders
from .models import Cart, CartLine

MAX_QUANTITY = orders.MAX_QUANTITY
NOT_OFFERED = "This product is not offered in the cart."
BAD_QUANTITY = "Quantities are whole numbers from 1 to 10,000."
MIXED_PERIODS = "Products billed at different periods are ordered separately."


def new_key() -> str:
    """An opaque cart key for a widget session (never an id one could guess)."""
    return secrets.token_urlsafe(32)


OFFERED = Read(select(*entity_columns(Product)).where(
    Product.merchant_id == bindparam("merchant"), Product.active.is_(True),
    Product.in_cart.is_(True)).order_by(Product.name, Product.id))


def offered_products(merchant) -> list[Product]:
    """What the cart offers: the merchant's active products marked for the cart, by name
    (built once and read through the driver: every cart page shows them, #26)."""
    return [attach(Product, row) for row in OFFERED.all(merchant=merchant.id)]


def find(merchant, key: str | None) -> Cart | None:
    if not key or not isinstance(key, str) or len(key) > 64:
        return None
    return db.session.scalar(select(Cart).where(Cart.merchant_id == merchant.id,
                                                Cart.key == key))


def get_or_create(merchant, key: str, customer=None) -> Cart:
    """The session's cart with this merchant, made on first use."""
    cart = find(merchant, key)
    if cart is None:
        if not key or len(key) > 64:
            raise ValueError("a cart key is 1 to 64 characters")
        cart = Cart(merchant_id=merchant.id, key=key)
        db.session.add(cart)
    if customer is not None and getattr(customer, "id", None) is not None:
        if customer.merchant_id != merchant.id:
            raise ValueError("customer of another merchant")
        cart.customer_id = customer.id
    db.session.flush()
    return cart


def _offered(merchant, product_id) -> Product:
    product = db.session.get(Product, product_id) if isinstance(product_id, int) else None
    if (product is None or product.merchant_id != merchant.id or not product.active
            or not product.in_cart or product.currency != merchant.currency):
        raise DomainError(NOT_OFFERED, "product", code="not_offered")
    return product


def _quantity(quantity) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) \
            or not 1 <= quantity <= MAX_QUANTITY:
        raise DomainError(BAD_QUANTITY, "quantity", code="bad_quantity")
    return quantity


def _line(cart: Cart, product_id: int) -> CartLine | None:
    return next((line for line in cart.lines if line.product_id == product_id), None)


def _check_periods(merchant, cart: Cart, product: Product) -> None:
    """One checkout makes one order, and recurring products of one order share a period."""
    if not product.recurring:
        return
    ids = [line.product_id for line in cart.lines if line.product_id != product.id]
    if not ids:
        return
    others = db.session.scalars(select(Product).where(Product.merchant_id == merchant.id,
                                                      Product.id.in_(ids)))
    if any(p.recurring and (p.interval, p.interval_count)
           != (product.interval, product.interval_count) for p in others):
        raise DomainError(MIXED_PERIODS, "product", code="mixed_periods")


def _touch(cart: Cart) -> None:
    cart.updated_at = utcnow()
    db.session.flush()


def add(merchant, cart: Cart, product_id, quantity=1) -> CartLine:
    """Put `quantity` more of an offered product in the cart."""
    _check_cart(merchant, cart)
    product = _offered(merchant, product_id)
    quantity = _quantity(quantity)
    line = _line(cart, product.id)
    if line is not None:
        _quantity(line.quantity + quantity)
        line.quantity += quantity
    else:
        _check_periods(merchant, cart, product)
        line = CartLine(product_id=product.id, quantity=quantity)
        cart.lines.append(line)
    _touch(cart)
    return line


def set_quantity(merchant, cart: Cart, product_id, quantity) -> CartLine:
    _check_cart(merchant, cart)
    product = _offered(merchant, product_id)
    quantity = _quantity(quantity)
    line = _line(cart, product.id)
    if line is None:
        raise DomainError("This product is not in your cart.", "product", code="not_in_cart")
    line.quantity = quantity
    _touch(cart)
    return line


def remove(merchant, cart: Cart, product_id) -> None:
    """Take a product out of the cart (one no longer offered too)."""
    _check_cart(merchant, cart)
    line = _line(cart, product_id) if isinstance(product_id, int) else None
    if line is None:
        raise DomainError("This product is not in your cart.", "product", code="not_in_cart")
    cart.lines.remove(line)
    _touch(cart)


def empty(merchant, cart: Cart) -> int:
    """Take everything out of the cart (its checkout is paid); how many lines this call took.
    One DELETE by cart rather than the ORM's row by row: a double-submitted checkout empties
    the cart twice at once, and the loser must find nothing left to delete (0), not fail on
    lines the winner took."""
    _check_cart(merchant, cart)
    taken = db.session.execute(delete(CartLine).where(CartLine.cart_id == cart.id)
                               .execution_options(synchronize_session=False)).rowcount
    db.session.expire(cart, ["lines"])
    _touch(cart)
    return taken or 0


def _check_cart(merchant, cart: Cart) -> None:
    if cart.merchant_id != merchant.id:
        raise ValueError("cart of another merchant")


@dataclass(frozen=True)
class Summary:
    """The cart priced now: its lines (OrderLine, not in the session) beside their products,
    the item count and totals in the merchant's currency."""
    lines: list = field(default_factory=list)
    products: dict = field(default_factory=dict)  # product id -> Product
    items: int = 0
    net_minor: int = 0
    tax_minor: int = 0
    total_minor: int = 0
    currency: str = ""
    interval: str | None = None
    interval_count: int = 1
    recurring_minor: int = 0  # what each later period costs (the recurring lines)


def summary(merchant, cart: Cart | None) -> Summary:
    """The cart priced from the catalogue as it is now. Lines whose product is no longer
    offered in the cart are left out (the visitor may still remove them)."""
    if cart is None or not cart.lines:
        return Summary(currency=merchant.currency)
    _check_cart(merchant, cart)
    offered = {p.id: p for p in offered_products(merchant)}
    kept = [line for line in cart.lines if line.product_id in offered]
    if not kept:
        return Summary(currency=merchant.currency)
    items = [orders.Item(line.product_id, line.quantity) for line in kept]
    try:
        quote = orders.quote(merchant, items)
    except DomainError:  # the catalogue changed under the cart (periods no longer agree)
        quote = _priced_apart(merchant, items, offered)
    return Summary(lines=quote.lines, products={line.product_id: offered[line.product_id]
                                                for line in kept},
                   items=sum(line.quantity for line in kept), net_minor=quote.net_minor,
                   tax_minor=quote.tax_minor, total_minor=quote.first_minor,
                   currency=merchant.currency, interval=quote.interval,
                   interval_count=quote.interval_count, recurring_minor=quote.period_minor)


def _priced_apart(merchant, items, offered) -> orders.Quote:
    """The quote's lines and totals without its one-period rule (checkout refuses such a
    cart; the visitor still sees what is in it)."""
    from ..tenancy.configuration import prices_include_tax
    from .models import OrderLine

    inclusive = prices_include_tax(merchant)
    lines = []
    for position, item in enumerate(items):
        product = offered[item.product_id]
        line = OrderLine.for_product(merchant, product, item.quantity, position,
                                     prices_include_tax=inclusive)
        line.recurring = product.recurring
        lines.append(line)
    return orders.Quote(lines, None, 1, sum(li.amount_minor for li in lines),
                        sum(li.amount_minor for li in lines if li.recurring),
                        sum(li.net_minor for li in lines), sum(li.tax_minor for li in lines))
