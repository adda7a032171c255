"""Orders as subscriptions (issue #21, SPEC W-7, P-4): placing, billing a period, cancelling.

Billing a period is claimed by one conditional UPDATE of the order's `next_billing_date` (from
the period's start to the next one), the first write of the transaction: of two requests (a
double click on "Bill now", two tabs, two workers of the billing run) exactly one moves the date
and bills; the other finds the date moved and bills nothing. The invoice's unique
(order_id, period_start) is the backstop: a period is never invoiced twice. Everything of a
period (the claim, the invoice, its number, its email, its autopay) commits together or not at
all, so a crash in the middle leaves the period to bill again.
"""
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import force_locale
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..billing.invoices import next_invoice_number, void
from ..billing.issuing import issue
from ..billing.models import Invoice, InvoiceLine
from ..catalogue.services import active_products
from ..core import events
from ..core.database import utcnow
from ..core.domain import DomainError
from ..core.extensions import db
from ..core.i18n import N_, customer_language, gettext
from ..core.paging import page_after
from ..customers.models import Customer
from ..tenancy.configuration import prices_include_tax
from ..tenancy.counters import next_number
from .models import ACTIVE, CANCELLED, ENDED, Order, OrderAdjustment, OrderLine, SalesAgent
from .periods import advance, retreat

ORDER_SEQUENCE = "order"
MAX_QUANTITY = 10000

# The line of an invoice whose credit exceeds it, stored in the customer's language (the billing
# run writes it with no customer present), as the invoice's other generated lines are.
CARRIED = N_("Credit carried to your account")


@dataclass(frozen=True)
class Item:
    product_id: int
    quantity: int


def next_order_number(merchant) -> str:
    return f"ORD-{next_number(merchant, ORDER_SEQUENCE):05d}"


def place(merchant, customer, items: list[Item], today: date, *,
          sales_agent_id: int | None = None, start: date | None = None,
          request_key: str | None = None, awaiting_payment: bool = False,
          carried: Sequence[OrderAdjustment] = ()) -> Order:
    """A new order from the merchant's active catalogue, its first period billed when its
    start has come: at once for an order starting today (the default); for a later start
    nothing now, and the billing run bills it on the day (its next billing date is the start).

    Recurring products of one order share one billing period (Stripe's rule for one
    subscription): products billed at different periods are ordered separately. With
    `request_key` (the customer's form), the same key gives back the order it made, even when
    two submits arrive at once (the key is unique per customer). With `awaiting_payment` (a
    checkout, paid at once), the order and its first invoice are recorded as waiting for that
    payment: no confirmation or "please pay" email until `confirm_paid` says it is paid.
    `carried`: adjustments of the order this one replaces (a plan change to another billing
    period, `changes`), billed by its first invoice.
    """
    start = start or today
    if start < today:
        raise DomainError("The start date cannot be in the past.", "start")
    if request_key and (made := by_request_key(merchant, customer, request_key)) is not None:
        return made
    wanted, offered, (interval, count) = _validated(merchant, items)
    agent = _agent(merchant, sales_agent_id)
    inclusive = prices_include_tax(merchant)
    order = Order(merchant_id=merchant.id, customer_id=customer.id,
                  number=next_order_number(merchant), status=ACTIVE, currency=merchant.currency,
                  start_date=start, interval=interval, interval_count=count,
                  anchor_day=start.day, next_billing_date=start,
                  sales_agent_id=agent.id if agent else None, request_key=request_key)
    for position, item in enumerate(wanted):
        product = offered[item.product_id]
        line = OrderLine.for_product(merchant, product, item.quantity, position,
                                     prices_include_tax=inclusive)
        line.recurring = product.recurring
        order.lines.append(line)
    order.total_minor = period_total(order)
    db.session.add(order)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        if request_key and (made := by_request_key(merchant, customer, request_key)):
            return made  # the same form, posted twice at once
        raise
    for adjustment in carried:
        adjustment.order_id = order.id
    quiet = {"awaiting_payment": True} if awaiting_payment else {}
    events.record(merchant, "order.created", order_id=order.id, customer_id=customer.id, **quiet)
    invoice = bill_due_period(merchant, order, today, awaiting_payment=awaiting_payment)
    if invoice is not None:
        order.invoice_id = invoice.id
    db.session.flush()
    return order


def _validated(merchant, items: list[Item]):
    """The wanted items, the offered products by id and the order's (interval, count)."""
    wanted = [item for item in items if item.product_id]
    if not wanted:
        raise DomainError("Choose at least one product.", "product")
    if any(not 1 <= item.quantity <= MAX_QUANTITY for item in wanted):
        raise DomainError("Quantities are whole numbers from 1 to 10,000.", "quantity")
    offered = {p.id: p for p in active_products(merchant)}
    if any(item.product_id not in offered for item in wanted):
        raise DomainError("Choose products from the catalogue.", "product")
    periods = {(offered[i.product_id].interval, offered[i.product_id].interval_count)
               for i in wanted if offered[i.product_id].recurring}
    if len(periods) > 1:
        raise DomainError("Products billed at different periods are ordered separately.",
                          "product")
    return wanted, offered, next(iter(periods)) if periods else (None, 1)


@dataclass(frozen=True)
class Quote:
    """What placing `items` would charge, before anything is written (the Review step)."""
    lines: list  # OrderLine, not added to the session
    interval: str | None
    interval_count: int
    first_minor: int  # the first invoice: every line
    period_minor: int  # each following period: the recurring lines (0 for a one-time order)
    net_minor: int
    tax_minor: int


def quote(merchant, items: list[Item]) -> Quote:
    wanted, offered, (interval, count) = _validated(merchant, items)
    inclusive = prices_include_tax(merchant)
    lines = []
    for position, item in enumerate(wanted):
        product = offered[item.product_id]
        line = OrderLine.for_product(merchant, product, item.quantity, position,
                                     prices_include_tax=inclusive)
        line.recurring = product.recurring
        lines.append(line)
    return Quote(lines, interval, count, sum(line.amount_minor for line in lines),
                 sum(line.amount_minor for line in lines if line.recurring),
                 sum(line.net_minor for line in lines), sum(line.tax_minor for line in lines))


def by_request_key(merchant, customer, key: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.merchant_id == merchant.id,
                                                 Order.customer_id == customer.id,
                                                 Order.request_key == key))


def unpaid_by_key_prefix(merchant, customer, prefix: str) -> list[Order]:
    """The customer's orders not cancelled whose request key starts with `prefix` and whose
    first invoice is unpaid (the cart's abandoned checkouts; a one-time order has ended)."""
    return list(db.session.scalars(
        select(Order).join(Invoice, Invoice.id == Order.invoice_id)
        .where(Order.merchant_id == merchant.id, Order.customer_id == customer.id,
               Order.status.in_((ACTIVE, ENDED)),
               Order.request_key.startswith(prefix, autoescape=True),
               Invoice.status == "issued", Invoice.balance_minor == Invoice.total_minor)
        .order_by(Order.id)))


def period_total(order: Order) -> int:
    """What one period costs (gross): the recurring lines, or every line of a one-time order."""
    lines = [line for line in order.lines if line.recurring] or list(order.lines)
    return sum(line.amount_minor for line in lines)


def _agent(merchant, agent_id: int | None) -> SalesAgent | None:
    if not agent_id:
        return None
    agent = db.session.get(SalesAgent, agent_id)
    if agent is None or agent.merchant_id != merchant.id or not agent.active:
        raise DomainError("Choose one of the listed sales agents.", "sales_agent")
    return agent


def _after(order: Order, start: date) -> tuple[date | None, str]:
    """The next period's start and the order's status once the period starting at `start` is
    billed: a one-time order is done; one reaching its end date ends (or stays cancelled)."""
    if not order.recurring:
        return None, ENDED
    following = advance(start, order.interval, order.interval_count, order.anchor_day)
    if order.end_date is not None and following >= order.end_date:
        return None, CANCELLED if order.cancelled_at else ENDED
    return following, ACTIVE


def _claim_period(order: Order, start: date, following: date | None, status: str) -> bool:
    """Move the order's next billing date from `start`: true for the one caller that did."""
    moved = db.session.execute(
        update(Order).where(Order.id == order.id, Order.status == ACTIVE,
                            Order.next_billing_date == start)
        .values(next_billing_date=following, status=status)
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        return False
    db.session.refresh(order, ["next_billing_date", "status"])
    return True


def billable(order: Order, today: date, *, ahead: bool = False) -> bool:
    """Whether the order's next period may be invoiced today: once it has come, or with
    `ahead` (the customer's "Bill now", P-3) also the next period while the current one runs,
    never further ahead (once billed, the period after waits until this one starts)."""
    start = order.next_billing_date
    if order.status != ACTIVE or start is None:
        return False
    if order.end_date is not None and start >= order.end_date:
        return start <= today  # nothing more to bill; the run closes it on the day
    if start <= today:
        return True
    return ahead and order.recurring and retreat(
        start, order.interval, order.interval_count, order.anchor_day) <= today


def bill_due_period(merchant, order: Order, today: date, *, ahead: bool = False,
                    period_start: date | None = None,
                    awaiting_payment: bool = False) -> Invoice | None:
    """Invoice the order's period that has come (its next billing date is today or past; with
    `ahead`, the next one too: see `billable`) and issue the invoice; None when nothing is
    billable or another request billed it first. With `period_start` (the period a customer's
    "Bill now" was shown), only that period: a double click never bills two periods."""
    start = order.next_billing_date
    if period_start is not None and start != period_start:
        return None
    if not billable(order, today, ahead=ahead):
        return None
    ending = order.end_date is not None and start >= order.end_date
    if ending:  # its end came before this period: nothing more to bill but its adjustments
        following, status = None, CANCELLED if order.cancelled_at else ENDED
    else:
        following, status = _after(order, start)
    if not _claim_period(order, start, following, status):
        return None
    first = start == order.start_date
    lines = [] if ending else [line for line in order.lines if line.recurring or first]
    # a plan change's proration lines (commerce.changes), carried once, by this invoice
    adjustments = list(db.session.scalars(select(OrderAdjustment).where(
        OrderAdjustment.order_id == order.id, OrderAdjustment.billed_invoice_id.is_(None))
        .order_by(OrderAdjustment.id)))
    lines += adjustments
    if not lines:
        return None
    invoice = Invoice(merchant_id=merchant.id, customer_id=order.customer_id,
                      number=next_invoice_number(merchant), status="draft",
                      currency=order.currency, order_id=order.id, period_start=start,
                      period_end=following if order.recurring else None)
    invoice.lines = [InvoiceLine(merchant_id=merchant.id, product_id=line.product_id,
                                 position=position, description=line.description,
                                 quantity=line.quantity, unit_price_minor=line.unit_price_minor,
                                 amount_minor=line.amount_minor, net_minor=line.net_minor,
                                 tax_rate_bp=line.tax_rate_bp, tax_minor=line.tax_minor)
                     for position, line in enumerate(lines)]
    surplus = -sum(line.amount_minor for line in invoice.lines)
    if surplus > 0:  # a credit beyond the invoice: kept as the customer's account credit
        invoice.lines.append(InvoiceLine(
            merchant_id=merchant.id, position=len(invoice.lines),
            description=_in_customers_language(merchant, order.customer_id, CARRIED),
            quantity=1, unit_price_minor=surplus, amount_minor=surplus, net_minor=surplus))
    invoice.total_minor = invoice.balance_minor = sum(line.amount_minor for line in invoice.lines)
    db.session.add(invoice)
    db.session.flush()
    for adjustment in adjustments:
        adjustment.billed_invoice_id = invoice.id
    issue(merchant, invoice, today, awaiting_payment=awaiting_payment)
    if adjustments and invoice.balance_minor == 0:
        invoice.status = "paid"
    if surplus > 0:
        db.session.execute(update(Customer).where(Customer.id == order.customer_id)
                           .values(credit_minor=Customer.credit_minor + surplus))
    db.session.flush()
    return invoice


def _in_customers_language(merchant, customer_id: int, text: str) -> str:
    with force_locale(customer_language(merchant, db.session.get(Customer, customer_id))):
        return gettext(text)


def cancel(merchant, order: Order, today: date, *, at_period_end: bool) -> Order:
    """Cancel at the end of the current period (billing stops; the order runs until then) or
    at once (nothing more is billed; the current period is not refunded)."""
    if order.status != ACTIVE or order.cancelled_at is not None:
        raise DomainError("This order is already cancelled or has ended.", status=409)
    order.cancelled_at = utcnow()
    if at_period_end and order.recurring and order.next_billing_date is not None:
        order.end_date = order.next_billing_date
    else:
        order.status = CANCELLED
        order.end_date = today
        order.next_billing_date = None
    db.session.flush()
    events.record(merchant, "order.cancelled", order_id=order.id, customer_id=order.customer_id,
                  at_period_end=order.status == ACTIVE)
    return order


def confirm_paid(merchant, order: Order) -> None:
    """A checkout's order, its first invoice paid: now it is confirmed (the email that
    `place(awaiting_payment=True)` held back)."""
    events.record(merchant, "order.paid", order_id=order.id, customer_id=order.customer_id)


def withdraw_unpaid(merchant, order: Order, today: date) -> bool:
    """Take back an order nobody paid for (its checkout abandoned): its first invoice voided,
    the order cancelled at once. False, and nothing changed, when money came in meanwhile or a
    payment is under way: then it is a real order."""
    invoice = db.session.get(Invoice, order.invoice_id) if order.invoice_id else None
    if invoice is not None:
        try:
            void(invoice)
        except DomainError:
            return False
    order.status, order.cancelled_at = CANCELLED, utcnow()
    order.end_date, order.next_billing_date = today, None
    db.session.flush()
    events.record(merchant, "order.cancelled", order_id=order.id, customer_id=order.customer_id,
                  at_period_end=False)
    return True


def current_period_end(order: Order) -> date | None:
    """When the period being used ends (the next billing date), if the order is billed again."""
    return order.next_billing_date if order.status == ACTIVE else None


def list_orders(merchant, *, status: str | None = None, customer_id: int | None = None,
                before_id: int | None = None, limit: int = 50) -> list[tuple[Order, Customer]]:
    """(order, customer) pairs, newest first, by keyset on the id (the same cost on every
    page) and in one statement whatever their number. One more than `limit` tells the caller
    there is a next page."""
    stmt = (select(Order, Customer).join(Customer, Customer.id == Order.customer_id)
            .where(Order.merchant_id == merchant.id, Customer.merchant_id == merchant.id))
    if status:
        stmt = stmt.where(Order.status == status)
    if customer_id is not None:
        stmt = stmt.where(Order.customer_id == customer_id)
    if before_id is not None:
        stmt = stmt.where(Order.id < before_id)
    return [tuple(row) for row in db.session.execute(stmt.order_by(Order.id.desc())
                                                      .limit(limit))]


def get_order(merchant, order_id: int, customer_id: int | None = None) -> Order | None:
    stmt = select(Order).where(Order.merchant_id == merchant.id, Order.id == order_id)
    if customer_id is not None:
        stmt = stmt.where(Order.customer_id == customer_id)
    return db.session.scalar(stmt)


def invoices_of(merchant, order: Order) -> list[Invoice]:
    return list(db.session.scalars(select(Invoice).where(
        Invoice.merchant_id == merchant.id, Invoice.order_id == order.id)
        .order_by(Invoice.id.desc())))


def orders_after(merchant, *, limit: int = 10, starting_after: int | None = None,
                 **equal) -> tuple[list[Order], bool]:
    """A page of the merchant's orders in id order after `starting_after` (the API's cursor,
    #25), optionally one customer's (`customer_id`) or in one `status`, with their lines."""
    return page_after(select(Order).where(Order.merchant_id == merchant.id)
                      .options(selectinload(Order.lines)), Order.id,
                      limit=limit, starting_after=starting_after, **equal)
