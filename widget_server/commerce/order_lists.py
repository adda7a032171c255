"""A customer's orders as a list shows them: a page of orders with their lines' words, in one
statement, as plain rows.

The widget's Orders page read entities (the orders, then their lines in a second statement):
the ORM's loading was two fifths of the page's time and each statement a round trip on
PostgreSQL (#26). The list only reads, so it takes the columns it shows.
"""
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Integer,
    String,
    bindparam,
    literal_column,
    select,
    union_all,
)

from ..core.reads import Read, null_of
from . import customer_agents
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


_ORDER, _AGENT = 0, 1  # a row's kind in the page's statement


def _page_statement():
    """Built once: the `limit` newest orders below the cursor, each row one of its lines, and
    after them (when `with_agents`) the sales agents the page offers (`customer_agents`): two
    statements in one, as a round trip costs PostgreSQL a statement's own work again (#26)."""
    merchant = bindparam("merchant")
    page = (select(*ORDER_COLUMNS)
            .where(Order.merchant_id == merchant,
                   Order.customer_id == bindparam("customer"), Order.id < bindparam("before"))
            .order_by(Order.id.desc()).limit(bindparam("limit")).subquery())

    # one shape for both kinds, the orders' columns giving the types (and the converters);
    # `sort_name` and `sort_key` order the agents by name and id after every order's lines
    orders = (select(literal_column(str(_ORDER), Integer).label("kind"),
                     null_of(String).label("sort_name"), page.c.id.label("sort_key"), page,
                     OrderLine.description, OrderLine.quantity, OrderLine.position,
                     OrderLine.id.label("line_id"), null_of(Boolean).label("active"))
              .select_from(page).outerjoin(OrderLine, OrderLine.order_id == page.c.id))
    agents = customer_agents.page_agents_select(merchant, bindparam("own")).subquery()
    blanks = [null_of(column.type) for column in ORDER_COLUMNS[2:]]
    offered = (select(literal_column(str(_AGENT), Integer), agents.c.name, -agents.c.id,
                      agents.c.id, agents.c.name, *blanks, null_of(String), null_of(Integer),
                      null_of(Integer), null_of(Integer), agents.c.active)
               .where(bindparam("with_agents", type_=Boolean)))
    both = union_all(orders, offered).subquery()
    return select(both).order_by(both.c.kind, both.c.sort_name, both.c.sort_key.desc(),
                                 both.c.position, both.c.line_id)


PAGE_STATEMENT = Read(_page_statement())  # through the driver (core.reads)


@dataclass
class OrdersPage:
    orders: list[ListedOrder]
    agents: list | None = None  # the agents the customer may choose (None: not asked for)
    own_agent: object | None = None


def page_for_customer(merchant, customer, *, before_id: int | None = None, limit: int = 20,
                      with_agents: bool = False) -> OrdersPage:
    """The customer's orders, newest first, below `before_id` (keyset pagination), and with
    `with_agents` the sales agents the page offers (`customer_agents.page_agents`)."""
    orders: dict[int, ListedOrder] = {}
    agents = []
    rows = PAGE_STATEMENT.all(merchant=merchant.id, customer=customer.id,
                              before=min(before_id or NO_CURSOR, NO_CURSOR), limit=limit,
                              with_agents=with_agents, own=customer.sales_agent_id or 0)
    for row in rows:
        if row.kind == _AGENT:
            agents.append(customer_agents.AgentChoice(row.id, row.number, row.active))
            continue
        columns = row[3:3 + len(ORDER_COLUMNS)]
        order = orders.get(row.id)
        if order is None:
            order = orders[row.id] = ListedOrder(*columns)
        if row.description is not None:
            order.lines.append(ListedLine(row.description, row.quantity))
    if not with_agents:
        return OrdersPage(list(orders.values()))
    return OrdersPage(list(orders.values()), *customer_agents.agent_choices(agents, customer))
