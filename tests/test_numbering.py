"""Invoice numbers from a per-merchant counter (issue #18): gap-free for issued invoices, never
jammed by an out-of-sequence number, distinct under concurrent issuing (SQLite and PostgreSQL)."""
import threading
from datetime import date

import pytest
from sqlalchemy import select, text

from widget_server.billing import invoices, issuing
from widget_server.billing.invoices import build_invoice, create_draft
from widget_server.billing.models import Invoice
from widget_server.catalogue.models import Product
from widget_server.core.extensions import db
from widget_server.customers.models import Customer
from widget_server.tenancy import counters
from widget_server.tenancy.counters import Counter, next_number
from widget_server.tenancy.models import Merchant


@pytest.fixture
def shop(app, portal):
    p = portal()
    with app.app_context():
        product = Product(merchant_id=p.merchant_id, sku="S", name="Service",
                          unit_price_minor=5000, currency="USD")
        db.session.add(product)
        db.session.commit()
        p.product_id = product.id
    return p


def _load(p):
    return (db.session.get(Merchant, p.merchant_id), db.session.get(Customer, p.customer_id))


def _draft(p):
    merchant, customer = _load(p)
    draft = create_draft(merchant, customer, [(p.product_id, 1)], None)
    db.session.commit()  # services flush; the test is the boundary, as a request would be
    return draft


def _issue(p, invoice):
    merchant, _ = _load(p)
    issuing.issue(merchant, invoice, date(2026, 11, 29))
    db.session.commit()
    return invoice.number


def _import(p, number, status="issued"):
    """An invoice numbered elsewhere (an import from the previous system)."""
    merchant, customer = _load(p)
    build_invoice(merchant, customer, [(db.session.get(Product, p.product_id), 1)],
                  number=number, issue_date=date(2026, 1, 1), due_date=None, status=status)
    db.session.commit()


def test_drafts_carry_a_draft_label_and_take_their_number_when_issued(ctx, shop):
    first, second, third = _draft(shop), _draft(shop), _draft(shop)
    assert [first.number, second.number, third.number] == [
        "DRAFT-00001", "DRAFT-00002", "DRAFT-00003"]
    # issued in another order than drafted, with a draft left over: still no gap
    assert [_issue(shop, third), _issue(shop, first)] == ["INV-00001", "INV-00002"]
    assert second.number == "DRAFT-00002" and second.status == "draft"


def test_an_out_of_sequence_number_does_not_break_the_next_invoice(ctx, shop):
    """COUNT(*)+1 numbering failed every invoice after one of these ("Could not number")."""
    _import(shop, "INV-00900")
    _import(shop, "INV-00002")
    assert _issue(shop, _draft(shop)) == "INV-00001"
    assert _issue(shop, _draft(shop)) == "INV-00003"  # the imported INV-00002 is skipped
    assert _issue(shop, _draft(shop)) == "INV-00004"
    numbers = db.session.scalars(select(Invoice.number).where(
        Invoice.merchant_id == shop.merchant_id).order_by(Invoice.number)).all()
    assert len(numbers) == len(set(numbers)) == 5


def test_an_invoice_numbered_before_its_draft_keeps_its_number(ctx, shop):
    """Drafts made before the counters already carry an "INV-" number: issuing keeps it."""
    _import(shop, "INV-00007", status="draft")
    invoice = db.session.scalar(select(Invoice).where(Invoice.number == "INV-00007"))
    assert _issue(shop, invoice) == "INV-00007"


def test_sequences_are_per_merchant_and_per_name(ctx, make_merchant):
    a = db.session.get(Merchant, make_merchant("a")[0])
    b = db.session.get(Merchant, make_merchant("b")[0])
    taken = [next_number(a, "invoice"), next_number(a, "invoice"), next_number(b, "invoice"),
             next_number(a, "order"), next_number(a, "invoice")]
    assert taken == [1, 2, 1, 1, 3]
    db.session.rollback()  # a rollback gives the numbers back
    assert next_number(a, "invoice") == 1


def test_the_loser_of_a_first_use_race_takes_the_winners_next_value(app, ctx, make_merchant,
                                                                   monkeypatch):
    """Two transactions find no row; one creates it; the other's insert fails in its
    SAVEPOINT, and it takes the next value from the winner's row."""
    merchant = db.session.get(Merchant, make_merchant("a")[0])
    real_take, calls = counters._take, []

    def take_after_a_rival_created_the_row(merchant_id, name):
        calls.append(name)
        if len(calls) == 1:
            with app.app_context():  # the rival: its own session, committed first
                rival = db.session.get(Merchant, merchant_id)
                assert next_number(rival, name) == 1
                db.session.commit()
            return None  # what we saw before the rival committed
        return real_take(merchant_id, name)

    monkeypatch.setattr(counters, "_take", take_after_a_rival_created_the_row)
    assert next_number(merchant, "invoice") == 2
    db.session.commit()
    assert db.session.scalar(select(Counter.next_value)) == 3


@pytest.mark.parametrize("counter_exists", [False, True], ids=["first-use", "existing-row"])
def test_concurrent_issues_get_distinct_consecutive_numbers(app, shop, counter_exists):
    threads_n = 6
    with app.app_context():
        if counter_exists:
            _issue(shop, _draft(shop))  # INV-00001; the row exists before the race
        drafts = [_draft(shop).id for _ in range(threads_n)]  # no "invoice" row without it
    barrier, errors, numbers = threading.Barrier(threads_n), [], []

    def issue(invoice_id):
        try:
            with app.app_context():
                if db.session.get_bind().dialect.name == "postgresql":
                    db.session.execute(text("SET LOCAL lock_timeout = '20s'"))
                    db.session.execute(text("SET LOCAL statement_timeout = '30s'"))
                invoice = db.session.get(Invoice, invoice_id)
                merchant = db.session.get(Merchant, shop.merchant_id)
                barrier.wait(timeout=10)
                issuing.issue(merchant, invoice, date(2026, 11, 29))
                db.session.commit()  # the counter row stays locked until here
                numbers.append(invoice.number)
                db.session.remove()
        except Exception as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=issue, args=(i,)) for i in drafts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=50)
    assert errors == []
    offset = 2 if counter_exists else 1
    assert sorted(numbers) == [f"INV-{n:05d}" for n in range(offset, offset + threads_n)]
    with app.app_context():
        assert db.session.scalar(select(Counter.next_value).where(
            Counter.merchant_id == shop.merchant_id, Counter.name == "invoice")) == (
            offset + threads_n)


def test_issuing_does_not_count_the_merchants_invoices(ctx, shop, count_queries):
    """The number comes from the counter row, not from a scan of the merchant's invoices."""
    invoice = _draft(shop)
    with count_queries() as counter:
        _issue(shop, invoice)
    assert not [s for s in counter.statements if "count(" in s.lower()]
    assert any(s.lstrip().upper().startswith("UPDATE COUNTER") for s in counter.statements)
    assert invoices.is_draft_number("DRAFT-00001") and not invoices.is_draft_number("INV-00001")
