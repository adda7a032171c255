"""Orders billed by period (issue #21 item 4): month ends, one invoice per period whatever runs
twice, crashes or races, the tax rule against an independent computation."""
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from widget_server.billing.models import Invoice
from widget_server.billing.tax import line_amounts, per_rate
from widget_server.catalogue.models import Product
from widget_server.commerce import billing_run, orders
from widget_server.commerce.models import ACTIVE, CANCELLED, ENDED, Order
from widget_server.commerce.periods import advance
from widget_server.core.extensions import db
from widget_server.customers.models import Customer
from widget_server.tenancy.models import Merchant

# --- periods -------------------------------------------------------------------------------

def _walk(start: date, interval: str, count: int, steps: int) -> list[date]:
    days, day = [start], start
    for _ in range(steps):
        day = advance(day, interval, count, start.day)
        days.append(day)
    return days


def test_a_monthly_order_started_on_the_31st_keeps_its_anchor_through_short_months():
    assert _walk(date(2027, 1, 31), "month", 1, 4) == [
        date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30),
        date(2027, 5, 31)]
    assert _walk(date(2028, 1, 31), "month", 1, 2)[1] == date(2028, 2, 29)  # leap year


def test_a_yearly_order_from_the_29th_of_february_falls_back_to_the_28th_and_returns():
    assert _walk(date(2028, 2, 29), "year", 1, 4) == [
        date(2028, 2, 29), date(2029, 2, 28), date(2030, 2, 28), date(2031, 2, 28),
        date(2032, 2, 29)]


def test_days_weeks_and_multiples():
    assert advance(date(2026, 12, 30), "day", 3, 30) == date(2027, 1, 2)
    assert advance(date(2026, 12, 30), "week", 2, 30) == date(2027, 1, 13)
    assert advance(date(2026, 11, 30), "month", 3, 30) == date(2027, 2, 28)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)),
       st.integers(1, 24))
def test_monthly_periods_always_land_on_the_anchor_or_the_months_last_day(start, months):
    day = start
    for _ in range(months):
        day = advance(day, "month", 1, start.day)
    expected_month = (start.year * 12 + start.month - 1 + months)
    assert (day.year * 12 + day.month - 1) == expected_month
    last = (date(day.year + (day.month == 12), day.month % 12 + 1, 1) - timedelta(days=1)).day
    assert day.day == min(start.day, last)


# --- tax -----------------------------------------------------------------------------------

def _independent(amount: int, rate_bp: int, inclusive: bool) -> tuple[int, int, int]:
    rate = Decimal(rate_bp) / Decimal(10000)
    if inclusive:
        net = (Decimal(amount) / (1 + rate)).quantize(Decimal(1), ROUND_HALF_UP)
        if amount < 0:  # half away from zero, as for positive amounts
            net = -(Decimal(-amount) / (1 + rate)).quantize(Decimal(1), ROUND_HALF_UP)
        return int(net), amount - int(net), amount
    tax = (abs(Decimal(amount)) * rate).quantize(Decimal(1), ROUND_HALF_UP)
    tax = tax if amount >= 0 else -tax
    return amount, int(tax), amount + int(tax)


@given(st.integers(-10**9, 10**9), st.integers(0, 10000), st.booleans())
def test_line_tax_follows_the_documented_rule(amount, rate_bp, inclusive):
    got = line_amounts(amount, rate_bp, inclusive)
    assert tuple(got) == _independent(amount, rate_bp, inclusive)
    assert got.net_minor + got.tax_minor == got.gross_minor


@given(st.lists(st.tuples(st.integers(1, 10**6), st.sampled_from([0, 700, 1900, 2000])),
                min_size=1, max_size=12), st.booleans())
def test_an_invoices_tax_per_rate_adds_up_to_its_lines(lines, inclusive):
    class Line:
        def __init__(self, amount, rate):
            a = line_amounts(amount, rate, inclusive)
            self.tax_rate_bp, self.net_minor, self.tax_minor = rate, a.net_minor, a.tax_minor
            self.amount_minor = a.gross_minor

    made = [Line(a, r) for a, r in lines]
    summary = per_rate(made)
    assert sum(r.net_minor + r.tax_minor for r in summary) == sum(x.amount_minor for x in made)
    assert [r.rate_bp for r in summary] == sorted({r for _, r in lines})


# --- orders and the billing run ------------------------------------------------------------

@pytest.fixture
def shop(app, portal):
    """A merchant with a monthly plan (19 % tax, prices with tax), a setup fee and a customer."""
    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        merchant.config = {"business": {"prices_include_tax": True}}
        plan = Product(merchant_id=merchant.id, sku="PLAN", name="Plan", unit_price_minor=1190,
                       currency="USD", tax_rate_bp=1900, interval="month", interval_count=1)
        fee = Product(merchant_id=merchant.id, sku="SETUP", name="Setup", unit_price_minor=5000,
                      currency="USD", tax_rate_bp=1900)
        db.session.add_all([plan, fee])
        db.session.commit()
        p.plan_id, p.fee_id = plan.id, fee.id
    return p


def _place(app, shop, start: date, *, fee=True, customer_id=None) -> int:
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        customer = db.session.get(Customer, customer_id or shop.customer_id)
        items = [orders.Item(shop.plan_id, 2)] + ([orders.Item(shop.fee_id, 1)] if fee else [])
        order = orders.place(merchant, customer, items, start)
        db.session.commit()
        return order.id


def _invoices(order_id: int) -> list[Invoice]:
    return list(db.session.scalars(select(Invoice).where(Invoice.order_id == order_id)
                                   .order_by(Invoice.period_start)))


def test_placing_an_order_issues_its_first_invoice_with_tax_and_the_one_time_fee(app, shop):
    order_id = _place(app, shop, date(2027, 1, 31))
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert order.number == "ORD-00001" and order.status == ACTIVE
        assert order.next_billing_date == date(2027, 2, 28)
        [invoice] = _invoices(order_id)
        assert invoice.status == "issued" and invoice.number.startswith("INV-")
        assert (invoice.period_start, invoice.period_end) == (date(2027, 1, 31),
                                                                date(2027, 2, 28))
        assert invoice.total_minor == 2 * 1190 + 5000
        plan_line = invoice.lines[0]
        assert (plan_line.net_minor, plan_line.tax_minor) == (2000, 380)  # 23.80 incl. 19 %
        assert order.total_minor == 2380  # a period, without the one-time fee


def test_the_billing_run_bills_each_due_period_once_and_one_time_lines_only_first(
        app, shop, monkeypatch):
    order_id = _place(app, shop, date.today() - timedelta(days=70))  # about 3 periods behind
    with app.app_context():
        first = billing_run.run()
        again = billing_run.run()
        invoices = _invoices(order_id)
        assert first.invoices == len(invoices) - 1 >= 2 and again.invoices == 0
        starts = [i.period_start for i in invoices]
        assert len(set(starts)) == len(starts)
        assert [len(i.lines) for i in invoices] == [2] + [1] * (len(invoices) - 1)
        order = db.session.get(Order, order_id)
        assert order.next_billing_date > date.today()
        assert invoices[-1].period_end == order.next_billing_date


def test_a_crash_in_the_middle_of_a_run_loses_only_its_batch_and_the_rerun_completes(
        app, shop, monkeypatch):
    start = date.today() - timedelta(days=40)
    ids = [_place(app, shop, start, fee=False) for _ in range(7)]
    real = orders.bill_due_period
    seen = set()

    def crashing(merchant, order, today):
        seen.add(order.id)
        if len(seen) == 5:  # the second order of the second batch
            raise RuntimeError("the worker died")
        return real(merchant, order, today)

    monkeypatch.setattr(billing_run, "bill_due_period", crashing)
    with app.app_context():
        with pytest.raises(RuntimeError):
            billing_run.run(batch=3)
        db.session.rollback()
        billed_before = {oid: len(_invoices(oid)) for oid in ids}
        # the first batch (3 orders) committed; the second rolled back whole
        assert sorted(billed_before.values()) == [1, 1, 1, 1, 2, 2, 2]
    monkeypatch.setattr(billing_run, "bill_due_period", real)
    with app.app_context():
        billing_run.run(batch=3)
        assert all(len(_invoices(oid)) == 2 for oid in ids)


def test_two_runs_at_once_bill_every_period_once(app, shop):
    start = date.today() - timedelta(days=40)
    ids = [_place(app, shop, start, fee=False) for _ in range(12)]
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        with app.app_context():
            try:
                barrier.wait()
                billing_run.run(batch=4)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    with app.app_context():
        counts = dict(db.session.execute(
            select(Invoice.order_id, func.count()).where(Invoice.order_id.in_(ids))
            .group_by(Invoice.order_id)).all())
        assert counts == dict.fromkeys(ids, 2)


def test_cancel_at_period_end_bills_nothing_more_and_ends_cancelled(app, shop):
    order_id = _place(app, shop, date.today() - timedelta(days=40), fee=False)
    with app.app_context():
        billing_run.run()
        merchant = db.session.get(Merchant, shop.merchant_id)
        order = db.session.get(Order, order_id)
        ends = order.next_billing_date
        orders.cancel(merchant, order, date.today(), at_period_end=True)
        db.session.commit()
        assert order.status == ACTIVE and order.end_date == ends
        before = len(_invoices(order_id))
        # time passes: the period's end has come (the order moved back rather than the clock)
        order.next_billing_date = order.end_date = date.today()
        db.session.commit()
        billing_run.run()
        order = db.session.get(Order, order_id)
        assert order.status == CANCELLED and order.next_billing_date is None
        assert len(_invoices(order_id)) == before


def test_cancel_at_once_stops_billing_today(app, shop):
    order_id = _place(app, shop, date.today(), fee=False)
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        order = db.session.get(Order, order_id)
        orders.cancel(merchant, order, date.today(), at_period_end=False)
        db.session.commit()
        assert (order.status, order.next_billing_date) == (CANCELLED, None)
        with pytest.raises(Exception, match="already cancelled"):
            orders.cancel(merchant, order, date.today(), at_period_end=False)


def test_a_one_time_order_is_billed_once_and_ends(app, shop):
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        customer = db.session.get(Customer, shop.customer_id)
        order = orders.place(merchant, customer, [orders.Item(shop.fee_id, 1)], date.today())
        db.session.commit()
        assert order.status == ENDED and order.next_billing_date is None
        assert billing_run.run().invoices == 0
        assert len(_invoices(order.id)) == 1


def test_one_merchants_run_billing_now_does_not_stand_in_for_the_days_run(app, shop):
    """The admin's "Run billing now" bills one merchant: the worker's first poll of the day
    still enqueues the run for every merchant."""
    from widget_server.jobs import periodic
    from widget_server.jobs.models import Job

    with app.app_context():
        billing_run.request_run(shop.merchant_id)
        db.session.commit()
        made = periodic.Clock().tick()
        assert [job.kind for job in made if job.kind == billing_run.JOB] == [billing_run.JOB]
        [everyone] = [job for job in made if job.kind == billing_run.JOB]
        assert everyone.merchant_id is None and everyone.payload == {}
        assert periodic.Clock().tick() == []  # and once a day only
        assert db.session.scalar(select(func.count(Job.id)).where(
            Job.kind == billing_run.JOB)) == 2


def test_a_run_catching_up_from_the_31st_walks_the_month_ends_and_returns_to_the_31st(
        app, shop, monkeypatch):
    """The billing run itself (not only the period arithmetic): an order from 31 January 2028,
    a leap year, billed on 1 April finds 31 Jan, 29 Feb and 31 Mar billed, one invoice each."""
    from widget_server.tenancy import models as tenancy_models

    order_id = _place(app, shop, date(2028, 1, 31), fee=False)
    monkeypatch.setattr(tenancy_models.Merchant, "today", lambda self: date(2028, 4, 1))
    monkeypatch.setattr(billing_run, "utcnow", lambda: datetime(2028, 4, 1, 12, tzinfo=UTC))
    with app.app_context():
        assert billing_run.run().invoices == 2
        invoices = _invoices(order_id)
        assert [(i.period_start, i.period_end) for i in invoices] == [
            (date(2028, 1, 31), date(2028, 2, 29)), (date(2028, 2, 29), date(2028, 3, 31)),
            (date(2028, 3, 31), date(2028, 4, 30))]
        assert db.session.get(Order, order_id).next_billing_date == date(2028, 4, 30)


def test_an_autopay_customers_billing_run_invoice_is_scheduled_for_its_due_date(app, shop):
    """Autopay customers are charged on the invoice's due date as today (#21 item 4): the run's
    invoice gets its autopay payment like any issued invoice."""
    from widget_server.billing.models import Payment, PaymentMethod

    order_id = _place(app, shop, date.today() - timedelta(days=40), fee=False)
    with app.app_context():
        db.session.get(Customer, shop.customer_id).autopay = True
        db.session.add(PaymentMethod(merchant_id=shop.merchant_id, customer_id=shop.customer_id,
                                     kind="card", token="sandbox:succeeded:4242",
                                     label="Visa •••• 4242", expires="12/39", is_default=True))
        db.session.commit()
        assert billing_run.run().invoices >= 1
        latest = _invoices(order_id)[-1]
        [payment] = db.session.scalars(select(Payment).where(
            Payment.idempotency_key == f"autopay-invoice-{latest.id}")).all()
        assert (payment.status, payment.source) == ("scheduled", "autopay")
        assert payment.amount_minor == latest.balance_minor
        assert payment.scheduled_for == latest.due_date
