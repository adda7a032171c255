"""A customer's orders as a list shows them: a page of orders with their lines' words, in one
statement, as plain rows.

The widget's Orders page read entities (the orders, then their lines in a second statement):
the ORM's loading was two fifths of the page's time and each statement a round trip on
PostgreSQL (#26). The list only reads, so it takes the columns it shows.
"""
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import bindparam, select

from ..core.reads import Read
from .models import Order, OrderLine

NO_CURSOR = 2 ** 31 - 1  # above every id (32-bit keys on PostgreSQL)


@dataclass
class ListedLine:
    description: str
    quantity: int


@dataclass
class ListedOrder:
    """What the list shows of an order; reads like an `Order` where the templates use it."""
    id: int
    number: str
    status: str
    currency: str
    total_minor: int
    interval: str | None
    interval_count: int
    end_date: date | None
    next_billing_date: date | None
    cancelled_at: datetime | None
    lines: list[ListedLine] = field(default_factory=list)

    @property
    def recurring(self) -> bool:
        return self.interval is not None


ORDER_COLUMNS = (Order.id, Order.number, Order.status, Order.currency, Order.total_minor,
                 Order.interval, Order.interval_count, Order.end_date, Order.next_billing_date,
                 Order.cancelled_at)


def _page_statement():
    """Built once: the `limit` newest orders below the cursor, each row one of its lines."""
    page = (select(*ORDER_COLUMNS)
            .where(Order.merchant_id == bindparam("merchant"),
                   Order.customer_id == bindparam("customer"), Order.id < bindparam("before"))
            .order_by(Order.id.desc()).limit(bindparam("limit")).subquery())
    return (select(page, OrderLine.description, OrderLine.quantity)
            .outerjoin(OrderLine, OrderLine.order_id == page.c.id)
            .order_by(page.c.id.desc(), OrderLine.position, OrderLine.id))


PAGE_STATEMENT = Read(_page_statement())  # through the driver (core.reads)


def page_for_customer(merchant, customer, *, before_id: int | None = None,
                      limit: int = 20) -> list[ListedOrder]:
    """The customer's orders, newest first, below `before_id` (keyset pagination)."""
    orders: dict[int, ListedOrder] = {}
    rows = PAGE_STATEMENT.all(merchant=merchant.id, customer=customer.id,
                              before=min(before_id or NO_CURSOR, NO_CURSOR), limit=limit)
    for *columns, description, quantity in rows:
        order = orders.get(columns[0])
        if order is None:
            order = orders[columns[0]] = ListedOrder(*columns)
        if description is not None:
            order.lines.append(ListedLine(description, quantity))
    return list(orders.values())
