"""Changing a subscription (issue #21 item 6, as Stripe and Chargebee allow): the customer
changes the quantity of a recurring line of an active order, or switches it to another active
recurring product; the change is prorated.

A switch to a product billed at another period (monthly to yearly) restarts the subscription
today, as Stripe resets the billing cycle when the interval changes: the order ends today, its
unused time is credited (the rule below, with no charge line), and a new order for the new
product starts today, its first invoice issued at once carrying that credit and any adjustment
still pending (a credit beyond it becomes account credit). Only a product chosen anew restarts
(a quantity change keeps the line's terms whatever the catalogue's product became), and only an
order whose one recurring line is switched; with other recurring lines, which keep their period,
the product is ordered separately. A restart waits for the order's open invoices to be paid
(their unused time would otherwise be credit for nothing), starts on the order's own later start
if it has not begun (nothing of it was invoiced: no proration), and, when the billing run is
behind, charges the days used since the last invoiced period by the same rule.

The proration rule (one rule, in minor units)
----------------------------------------------
The billed periods are those already invoiced whose end has not come: the period in use
[period_start, next_billing_date), the one the last invoice billed, and, when "Bill now" has
invoiced the next period ahead of its start, both the period in use and that one. For each billed
period p, `days_p` long, a change made on `today` leaves

    remaining_p = days from today (inclusive) to p's end (exclusive), clamped to [0, days_p]

(a period billed ahead: all of it). The change gives two lines, each with quantity 1:

- a credit for the unused part of the old line:  −Σ_p round(old_amount × remaining_p / days_p)
- a charge for the new line for the same part:   +Σ_p round(new_amount × remaining_p / days_p)

where a line's *amount* is its unit price × quantity as priced, i.e. **the gross when the
merchant's prices include tax, the net when they do not** (`billing.tax`). `round` is half away
from zero on exact integers (`billing.tax.round_half_away`), once per line. Each prorated amount
is then split at the line's tax rate by `billing.tax.line_amounts`, exactly as an ordinary line
is: with prices including tax the prorated amount is the line's gross and its net is derived;
without, it is the net and the tax is added (so the customer's gross effect is the prorated net
plus its tax, rounded once more per line). The **net effect** of the change is the sum of the
two lines' gross amounts.

A change on the first day of the period (remaining = the whole period) credits the whole old
line and charges the whole new one; a change on the day the next period starts (remaining 0)
has no proration lines: the new line is simply billed from that period on.

Prices: a quantity change keeps the line's own unit price (the price the customer bought at);
a switch takes the new product's current catalogue price and tax rate.

Applying the change updates the order line and the order's period total, records
`order.changed`, and keeps the two lines as pending adjustments (`OrderAdjustment`) that the
order's NEXT invoice carries (`orders.bill_due_period` marks them billed in the same
transaction, so billing the same period twice never repeats them). A credit larger than that
invoice becomes the customer's account credit (a customer balance, as Stripe does).
"""
from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import select, update

from ..billing.models import Invoice
from ..billing.tax import LineAmounts, line_amounts, round_half_away
from ..catalogue.models import Product
from ..core import events
from ..core.domain import DomainError
from ..core.extensions import db
from ..core.i18n import N_, gettext
from ..customers.models import Customer
from ..tenancy.configuration import prices_include_tax
from .models import ACTIVE, ENDED, Order, OrderAdjustment, OrderLine, SalesAgent
from .orders import MAX_QUANTITY, Item, period_total, place
from .periods import advance, retreat

# The proration lines' descriptions, stored on the invoice in the customer's language (the
# change is made in a widget request): marked with N_ for the catalogues, translated at use.
UNUSED = N_("Unused time on %(name)s × %(quantity)s")
REMAINING = N_("Remaining time on %(name)s × %(quantity)s")
USED = N_("Time used on %(name)s × %(quantity)s, not yet invoiced")


@dataclass(frozen=True)
class Proration:
    """One prorated line (quantity 1): its priced amount and its split at the tax rate."""
    description: str
    unit_price_minor: int  # the prorated priced amount (gross or net, as prices are entered)
    tax_rate_bp: int
    amounts: LineAmounts

    @property
    def amount_minor(self) -> int:  # the gross, what the customer pays or is credited
        return self.amounts.gross_minor


@dataclass(frozen=True)
class Change:
    order: Order
    line: OrderLine
    product: Product | None  # the new product (None: the line's product is gone, quantity only)
    name: str
    quantity: int
    unit_price_minor: int
    tax_rate_bp: int
    new_line: LineAmounts  # the line from the next period on
    period_start: date
    period_end: date
    period_days: int  # of the billed periods (`billed_periods`), together
    remaining_days: int
    billed_ahead: bool  # the next period is invoiced already: it is prorated whole
    credit: Proration | None
    charge: Proration | None
    new_period_total_minor: int  # what a period costs from now on (gross)
    pending_minor: int  # adjustments already waiting for the next invoice (earlier changes)
    today: date
    restart: bool = False  # another billing period: a new order from today (module docstring)
    new_order: Order | None = None  # the order a restart made (after `apply`)

    @property
    def period_last_day(self) -> date:
        """The current period's last day (it ends the day before the next one starts)."""
        return self.period_end - timedelta(days=1)

    @property
    def net_minor(self) -> int:
        """The change's effect on the next invoice: credit + charge (gross)."""
        return sum(p.amount_minor for p in (self.credit, self.charge) if p is not None)

    @property
    def next_invoice_date(self) -> date:
        """When the next invoice is issued: today for a restart, else the next period's start."""
        return self.today if self.restart else self.period_end

    @property
    def next_invoice_minor(self) -> int:
        """What the next invoice comes to: the next period at the new price, and every
        adjustment not yet billed, this change's included (below zero: account credit)."""
        return self.new_period_total_minor + self.pending_minor + self.net_minor


def prorate(amount_minor: int, remaining: int, period_days: int) -> int:
    """amount × remaining / period_days, rounded half away from zero (the rule above)."""
    return round_half_away(amount_minor * remaining, period_days)


def remaining_days(period_start: date, period_end: date, today: date) -> int:
    whole = (period_end - period_start).days
    return max(0, min(whole, (period_end - today).days))


def current_period(order: Order) -> tuple[date, date]:
    """[start, end) of the period being used: it ends on the next billing date and started one
    period before (never before the order did)."""
    end = order.next_billing_date
    start = retreat(end, order.interval, order.interval_count, order.anchor_day)
    if order.start_date is not None and start < order.start_date < end:
        start = order.start_date
    return start, end


def changeable_products(merchant, order: Order) -> list[Product]:
    """What a line may switch to: the active recurring products billed at the order's period,
    and with one recurring line, those billed at another period too (a restart)."""
    stmt = select(Product).where(Product.merchant_id == merchant.id, Product.active.is_(True),
                                 Product.currency == order.currency,
                                 Product.interval.is_not(None))
    if not _alone(order):
        stmt = stmt.where(Product.interval == order.interval,
                          Product.interval_count == order.interval_count)
    return list(db.session.scalars(stmt.order_by(Product.name)))


def _alone(order: Order) -> bool:
    """Whether the order has one recurring line (which may then change its period)."""
    return sum(1 for line in order.lines if line.recurring) == 1


def restarts(order: Order, product: Product | None) -> bool:
    """Whether switching to `product` restarts the subscription: another billing period."""
    return product is not None and (product.interval, product.interval_count) != (
        order.interval, order.interval_count)


def billed_periods(order: Order, today: date) -> list[tuple[date, date]]:
    """[start, end) of each invoiced period not yet over, oldest first: the period in use and,
    once "Bill now" has invoiced the next one ahead of its start, that one too (the rule above:
    a change credits and charges all of them, so an upgrade is never free for the rest of the
    period in use)."""
    periods = [current_period(order)]
    while periods[0][0] > today and (order.start_date is None
                                     or periods[0][0] > order.start_date):
        end = periods[0][0]
        start = retreat(end, order.interval, order.interval_count, order.anchor_day)
        if order.start_date is not None and start < order.start_date < end:
            start = order.start_date
        periods.insert(0, (start, end))
    # a period ending by the order's start was never invoiced (an order that has not started)
    return [(start, end) for start, end in periods
            if order.start_date is None or end > order.start_date]


def changeable(order: Order) -> bool:
    return (order.status == ACTIVE and order.recurring and order.cancelled_at is None
            and order.end_date is None and order.next_billing_date is not None
            and any(line.recurring for line in order.lines))


def _line(order: Order, line_id: int | None) -> OrderLine:
    recurring = [line for line in order.lines if line.recurring]
    if line_id is None and len(recurring) == 1:
        return recurring[0]
    for line in recurring:
        if line.id == line_id:
            return line
    raise DomainError("Choose one of the order's recurring lines.", "line", code="line")


def _product(merchant, order: Order, product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if (product is None or product.merchant_id != merchant.id or not product.active
            or product.currency != order.currency):
        raise DomainError("Choose one of the listed products.", "product", code="product")
    if not product.recurring:
        raise DomainError("Choose a product billed every period.", "product",
                          code="product_not_recurring")
    if restarts(order, product) and not _alone(order):
        raise DomainError("This product is billed at a different period than the order; "
                          "order it separately.", "product", code="product_period")
    return product


def pending_minor(merchant, order: Order) -> int:
    """What earlier plan changes still add to (or take from) the order's next invoice: billed
    on the period's end even when the order is cancelled at that end."""
    return sum(a.amount_minor for a in _pending(merchant, order))


def _pending(merchant, order: Order) -> list[OrderAdjustment]:
    return list(db.session.scalars(select(OrderAdjustment).where(
        OrderAdjustment.merchant_id == merchant.id, OrderAdjustment.order_id == order.id,
        OrderAdjustment.billed_invoice_id.is_(None)).order_by(OrderAdjustment.id)))


def preview(merchant, order: Order, line_id: int | None, new_product_id: int | None,
            new_quantity: int, today: date) -> Change:
    """What the change would do, without doing it (the widget's Review step)."""
    if order.merchant_id != merchant.id:
        raise DomainError("This order cannot be changed.", status=404, code="not_found")
    if not changeable(order):
        raise DomainError("Only an active subscription that is not cancelled can be changed.",
                          status=409, code="not_changeable")
    line = _line(order, line_id)
    if not isinstance(new_quantity, int) or not 1 <= new_quantity <= MAX_QUANTITY:
        raise DomainError("Quantities are whole numbers from 1 to 10,000.", "quantity",
                          code="quantity")
    inclusive = prices_include_tax(merchant)
    if new_product_id is None or new_product_id == line.product_id:
        product = db.session.get(Product, line.product_id) if line.product_id else None
        name, unit, rate = line.description, line.unit_price_minor, line.tax_rate_bp
        if new_quantity == line.quantity:
            raise DomainError("Choose a different quantity or product.", "quantity",
                              code="unchanged")
    else:
        product = _product(merchant, order, new_product_id)
        name, unit, rate = product.name, product.unit_price_minor, product.tax_rate_bp or 0
    periods = billed_periods(order, today)
    shown = periods or [current_period(order)]  # (not started: the days before its start)
    spans = [((end - start).days, remaining_days(start, end, today)) for start, end in periods]
    days, remaining = sum(d for d, _ in spans), sum(r for _, r in spans)
    credit = charge = None
    # only a product chosen anew restarts: a quantity change keeps the line's own terms even
    # when the catalogue's product has since changed its period
    restart = new_product_id not in (None, line.product_id) and restarts(order, product)
    if restart and open_invoices(merchant, order):
        raise DomainError(gettext("Please pay this subscription's open invoice first: then it "
                                  "can switch to a plan billed at another period."),
                          status=409, code="unpaid")
    if remaining and days:
        old_amount = line.unit_price_minor * line.quantity
        new_amount = unit * new_quantity
        credited = -sum(prorate(old_amount, r, d) for d, r in spans if d)
        charged = sum(prorate(new_amount, r, d) for d, r in spans if d)
        credit = Proration(gettext(UNUSED, name=line.description, quantity=line.quantity),
                           credited, line.tax_rate_bp,
                           line_amounts(credited, line.tax_rate_bp, inclusive))
        if not restart:  # a restart charges the new plan's whole first period instead
            charge = Proration(gettext(REMAINING, name=name, quantity=new_quantity), charged,
                               rate, line_amounts(charged, rate, inclusive))
    if restart and (used := unbilled_use(order, line, today)):
        # the billing run is behind: the days used since the last invoiced period are charged
        # at the old plan, by the same rule, since the order ends today unbilled for them
        charge = Proration(gettext(USED, name=line.description, quantity=line.quantity), used,
                           line.tax_rate_bp, line_amounts(used, line.tax_rate_bp, inclusive))
    new_line = line_amounts(unit * new_quantity, rate, inclusive)
    others = sum(x.amount_minor for x in order.lines if x.recurring and x.id != line.id)
    return Change(order=order, line=line, product=product, name=name, quantity=new_quantity,
                  unit_price_minor=unit, tax_rate_bp=rate, new_line=new_line,
                  period_start=shown[0][0], period_end=shown[-1][1], period_days=days,
                  remaining_days=remaining, billed_ahead=len(periods) > 1,
                  restart=restart, today=today, credit=credit, charge=charge,
                  new_period_total_minor=others + new_line.gross_minor,
                  pending_minor=sum(a.amount_minor for a in _pending(merchant, order)))


def apply(merchant, order: Order, line_id: int | None, new_product_id: int | None,
          new_quantity: int, today: date) -> Change:
    """Make the change previewed with the same arguments: the line, the order's total, the
    pending proration lines for the next invoice, and the `order.changed` event."""
    # the order row first, locked: two changes at once apply one after the other
    db.session.execute(select(Order.id).where(Order.id == order.id).with_for_update())
    db.session.refresh(order, ["status", "next_billing_date", "cancelled_at", "end_date"])
    # and its lines as they are now, not as read before the lock (a double submit finds the
    # change made and is refused as "unchanged")
    db.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)
                       .execution_options(populate_existing=True)).all()
    change = preview(merchant, order, line_id, new_product_id, new_quantity, today)
    if change.restart:
        return _restart(merchant, order, change, today)
    line = change.line
    old = {"product_id": line.product_id, "quantity": line.quantity}
    for proration in (change.credit, change.charge):
        if proration is None:
            continue
        db.session.add(OrderAdjustment(
            merchant_id=merchant.id, order_id=order.id, product_id=(
                old["product_id"] if proration is change.credit else line_product(change)),
            description=proration.description, quantity=1,
            unit_price_minor=proration.unit_price_minor,
            amount_minor=proration.amounts.gross_minor, net_minor=proration.amounts.net_minor,
            tax_rate_bp=proration.tax_rate_bp, tax_minor=proration.amounts.tax_minor,
            changed_on=today))
    line.product_id = line_product(change)
    line.description = change.name
    line.quantity = change.quantity
    line.unit_price_minor = change.unit_price_minor
    line.tax_rate_bp = change.tax_rate_bp
    line.amount_minor = change.new_line.gross_minor
    line.net_minor = change.new_line.net_minor
    line.tax_minor = change.new_line.tax_minor
    order.total_minor = period_total(order)
    db.session.flush()
    events.record(merchant, "order.changed", order_id=order.id, customer_id=order.customer_id,
                  line_id=line.id, old_product_id=old["product_id"],
                  old_quantity=old["quantity"], product_id=line.product_id,
                  quantity=line.quantity, net_minor=change.net_minor)
    return change


def line_product(change: Change) -> int | None:
    return change.product.id if change.product is not None else change.line.product_id


def unbilled_use(order: Order, line: OrderLine, today: date) -> int:
    """What the line's days from the next billing date (past: the run is behind) to today come
    to, per period round(amount × days used / days in period), the proration rule."""
    amount, total = line.unit_price_minor * line.quantity, 0
    start = order.next_billing_date
    while start is not None and start < today:
        end = advance(start, order.interval, order.interval_count, order.anchor_day)
        total += prorate(amount, (min(end, today) - start).days, (end - start).days)
        start = end
    return total


def open_invoices(merchant, order: Order) -> bool:
    """Whether an invoice of the order is still to be paid. A restart credits the unused time
    of what was invoiced to a new order; of an unpaid invoice (which a cart's checkout may yet
    withdraw) that would be credit for nothing, so a restart waits for it."""
    return db.session.scalar(select(Invoice.id).where(
        Invoice.merchant_id == merchant.id, Invoice.order_id == order.id,
        Invoice.status == "issued", Invoice.balance_minor > 0).limit(1)) is not None


def _restart(merchant, order: Order, change: Change, today: date) -> Change:
    """A switch to another billing period: this order ends today with its unused time credited;
    a new order for the new product starts today (or on the order's own later start), its first
    invoice carrying that credit and any adjustment still pending (the module docstring)."""
    if not _alone(order):  # (preview refuses it first; a restart must never drop a line)
        raise DomainError("This product is billed at a different period than the order; "
                          "order it separately.", "product", code="product_period")
    # The order ends by one conditional UPDATE, the first write: two confirms at once (SQLite
    # takes no row lock for the SELECT … FOR UPDATE in `apply`) restart it once.
    ended = db.session.execute(update(Order).where(
        Order.id == order.id, Order.status == ACTIVE, Order.cancelled_at.is_(None))
        .values(status=ENDED, end_date=today, next_billing_date=None))
    if ended.rowcount != 1:
        raise DomainError("Only an active subscription that is not cancelled can be changed.",
                          status=409, code="not_changeable")
    db.session.refresh(order, ["status", "end_date", "next_billing_date"])
    for proration in (change.credit, change.charge):  # (a restart's charge: days used, unbilled)
        if proration is None:
            continue
        db.session.add(OrderAdjustment(
            merchant_id=merchant.id, order_id=order.id, product_id=change.line.product_id,
            description=proration.description, quantity=1,
            unit_price_minor=proration.unit_price_minor,
            amount_minor=proration.amounts.gross_minor, net_minor=proration.amounts.net_minor,
            tax_rate_bp=proration.tax_rate_bp, tax_minor=proration.amounts.tax_minor,
            changed_on=today))
    db.session.flush()
    carried = _pending(merchant, order)
    customer = db.session.get(Customer, order.customer_id)
    agent = db.session.get(SalesAgent, order.sales_agent_id) if order.sales_agent_id else None
    new = place(merchant, customer, [Item(change.product.id, change.quantity)], today,
                start=max(today, order.start_date or today),  # a later start is kept
                sales_agent_id=agent.id if agent is not None and agent.active else None,
                carried=carried)  # (an agent since deactivated does not follow)
    events.record(merchant, "order.changed", order_id=new.id, customer_id=order.customer_id,
                  replaced_order_id=order.id, line_id=new.lines[0].id,
                  old_product_id=change.line.product_id, old_quantity=change.line.quantity,
                  product_id=change.product.id, quantity=change.quantity,
                  net_minor=change.net_minor)
    return replace(change, new_order=new)
