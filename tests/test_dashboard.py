"""The admin dashboard (issue #24 item 1): the ageing buckets, the collected totals, recurring
revenue, failed payments, email delivery and sign-ins, checked against a hand-built data set of a
Berlin merchant (days are the merchant's); the page shows them beside SVG charts with their
tables; its statement count does not grow with the data."""
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from widget_server.billing import reports
from widget_server.billing.models import Invoice, Payment
from widget_server.commerce.models import Order
from widget_server.core.extensions import db
from widget_server.customers.models import Customer, PortalSession
from widget_server.notifications.models import EmailMessage
from widget_server.tenancy.models import Merchant

BERLIN = ZoneInfo("Europe/Berlin")


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment of the merchant's (Berlin) day, as stored: UTC."""
    return datetime.combine(day, time(hour, minute), BERLIN).astimezone(UTC)


@pytest.fixture
def books(app, make_merchant, owner_client):
    """The owner client's merchant `acme` in Berlin with a hand-built ledger; and `other`,
    whose rows must never count."""
    merchant_id = owner_client.merchant_id
    other_id, _ = make_merchant("other")
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        merchant.timezone = "Europe/Berlin"
        today = merchant.today()
        people = {}
        for mid in (merchant_id, other_id):
            people[mid] = Customer(merchant_id=mid, first_name="Ada", last_name="Lovelace",
                                   custom_fields={})
            db.session.add(people[mid])
        db.session.flush()
        seq = iter(range(1, 100))

        def invoice(due_in, balance, status="issued", total=None, mid=merchant_id):
            db.session.add(Invoice(merchant_id=mid, customer_id=people[mid].id,
                                   number=f"INV-{next(seq)}", status=status, currency="USD",
                                   total_minor=total or max(balance, 1),
                                   balance_minor=balance, issue_date=today - timedelta(200),
                                   due_date=today + timedelta(days=due_in)))

        invoice(5, 1000)            # not yet due
        invoice(0, 700)             # due today: not yet overdue
        invoice(-30, 2000)          # 1-30
        invoice(-31, 3000)          # 31-60
        invoice(-45, 500, total=9000)  # partly paid: its balance counts
        invoice(-90, 4000)          # 61-90
        invoice(-91, 5000)          # over 90
        invoice(-10, 0, status="paid", total=6000)
        invoice(-10, 6000, status="void")
        invoice(-10, 6000, status="draft")
        invoice(-10, 8888, mid=other_id)

        def payment(moment, amount, status="succeeded", mid=merchant_id):
            db.session.add(Payment(merchant_id=mid, customer_id=people[mid].id,
                                   amount_minor=amount, currency="USD", status=status,
                                   created_at=moment, failure_message="Card declined"))

        payment(_at(today, 0, 30), 1500)  # 23:30 UTC yesterday, but today in Berlin
        payment(_at(today - timedelta(1), 23, 30), 2500)
        payment(_at(today - timedelta(29), 12), 100)
        payment(_at(today - timedelta(30), 12), 9999)  # in the 90 days, not the last 30
        payment(_at(today - timedelta(91), 12), 7)  # before the chart
        payment(_at(today, 9), 800, status="failed")
        # a cheque received three days ago, recorded today: collected on the day it came
        db.session.add(Payment(merchant_id=merchant_id, customer_id=people[merchant_id].id,
                               amount_minor=300, currency="USD", status="succeeded",
                               source="offline", method="cheque", created_at=_at(today, 8),
                               received_on=today - timedelta(days=3)))
        payment(_at(today, 9), 4444, mid=other_id)

        this_month = today.replace(day=1)
        last_end = this_month - timedelta(days=1)

        def order(number, interval, count, total, start, end=None, status="active"):
            db.session.add(Order(merchant_id=merchant_id, customer_id=people[merchant_id].id,
                                 number=number, status=status, currency="USD",
                                 start_date=start, end_date=end, interval=interval,
                                 interval_count=count, anchor_day=start.day,
                                 total_minor=total))

        order("A", "month", 1, 1000, last_end - timedelta(days=5))
        order("B", "year", 1, 12000, this_month)
        order("C", "month", 3, 3000, last_end - timedelta(days=60), end=this_month,
              status="cancelled")
        order("D", None, 1, 50000, last_end - timedelta(days=60), status="ended")

        for status, when in (("sent", today), ("sent", today), ("queued", today),
                             ("failed", today), ("sent", today - timedelta(1))):
            db.session.add(EmailMessage(
                merchant_id=merchant_id, email_type="payment_receipt", to_address="a@x.test",
                subject="s", text_body="t", html_body="h", status=status,
                message_id=f"<{next(seq)}@x>", created_at=_at(when, 12)))
        for days_ago in (0, 29, 30):
            db.session.add(PortalSession(
                token_hash=f"{days_ago:064d}", merchant_id=merchant_id,
                customer_id=people[merchant_id].id, created_at=_at(today - timedelta(days_ago),
                                                                  12)))
        db.session.commit()
    return owner_client


def test_the_ageing_buckets_and_outstanding_totals(app, books):
    with app.app_context():
        merchant = db.session.get(Merchant, books.merchant_id)
        owed = reports.receivables(merchant, merchant.today())
    assert (owed.outstanding_minor, owed.outstanding_count) == (16200, 7)
    assert (owed.current_minor, owed.overdue_minor, owed.overdue_count) == (1700, 14500, 5)
    assert [(b.label, b.amount_minor, b.count) for b in owed.ageing] == [
        ("1–30 days", 2000, 1), ("31–60 days", 3500, 2), ("61–90 days", 4000, 1),
        ("Over 90 days", 5000, 1)]


def test_collections_per_merchant_day(app, books):
    with app.app_context():
        merchant = db.session.get(Merchant, books.merchant_id)
        today = merchant.today()
        series = reports.collections(merchant, today - timedelta(days=89), today)
    assert len(series) == 90 and series[0][0] == today - timedelta(days=89)
    assert series[-1] == (today, 1500)  # the 00:30 payment is Berlin's today
    assert series[-2] == (today - timedelta(1), 2500)
    assert series[-4] == (today - timedelta(3), 300)  # the cheque, on the day it came
    assert sum(amount for _, amount in series[-30:]) == 4400
    assert sum(amount for _, amount in series) == 4400 + 9999


def test_recurring_revenue_at_each_months_end(app, books):
    with app.app_context():
        merchant = db.session.get(Merchant, books.merchant_id)
        revenue = reports.recurring_revenue(merchant, merchant.today(), 12)
    assert len(revenue) == 12
    # now: A monthly €10 + B yearly €120 (€10 a month); C ended with last month
    assert revenue[-1][1] == 2000
    # last month's end: A and C (every 3 months €30: €10 a month); B not begun
    assert revenue[-2][1] == 2000
    assert revenue[-3][1] == 1000  # C only
    assert revenue[0][1] == 0


def test_activity_failed_payments_emails_and_sign_ins(app, books):
    with app.app_context():
        merchant = db.session.get(Merchant, books.merchant_id)
        seen = reports.activity(merchant, merchant.today())
        assert seen.failed_payments == 1
        assert [(p.amount_minor, c.display_name) for p, c in seen.recent_failures] == [
            (800, "Ada Lovelace")]
        assert seen.emails == {"sent": 2, "queued": 1, "failed": 1}
        assert seen.sign_ins == 2


def test_the_dashboard_page_shows_figures_charts_and_tables(books):
    page = books.client.get("/admin/").get_data(as_text=True)
    assert 'id="kpi-outstanding">$162.00<' in page and 'id="kpi-overdue" class="bad">$145.00<' \
        in page
    assert 'id="kpi-collected">$44.00<' in page and 'id="kpi-mrr">$20.00<' in page
    assert 'id="kpi-failed" class="bad">1<' in page and 'id="kpi-sign-ins">2<' in page
    for chart in ("chart-collections", "chart-ageing", "chart-revenue"):
        assert f'<svg class="chart" id="{chart}"' in page
        assert f'role="img" aria-labelledby="{chart}-title"' in page
    assert "<th scope=\"row\">31–60 days</th><td class=\"num\">2</td><td class=\"num\">$35.00" \
        in page
    assert "Card declined" in page and "Ada Lovelace" in page
    assert "https://" not in page.split("<main", 1)[1]  # nothing from a third party


def test_the_dashboard_costs_the_same_statements_at_any_size(app, books, count_queries):
    with count_queries() as few:
        assert books.client.get("/admin/").status_code == 200
    with app.app_context():
        merchant = db.session.get(Merchant, books.merchant_id)
        customer = db.session.query(Customer).filter_by(merchant_id=merchant.id).first()
        today = merchant.today()
        for i in range(40):
            db.session.add(Invoice(merchant_id=merchant.id, customer_id=customer.id,
                                   number=f"MORE-{i}", status="issued", currency="USD",
                                   total_minor=100, balance_minor=100, issue_date=today,
                                   due_date=today - timedelta(days=i * 5)))
            db.session.add(Payment(merchant_id=merchant.id, customer_id=customer.id,
                                   amount_minor=100, currency="USD",
                                   status="failed" if i % 2 else "succeeded",
                                   created_at=_at(today - timedelta(days=i), 10)))
        db.session.commit()
    with count_queries() as many:
        assert books.client.get("/admin/").status_code == 200
    assert many.count == few.count
