"""Bulk data for the benchmark: the demo merchant grown to N customers and M invoices.

Rows go in with SQLAlchemy Core `insert()` in executemany batches (SQLite), or with `COPY` through
psycopg (PostgreSQL), not as ORM objects one at a time: a million invoices take about 20 s
here either way. Only the tables the measured pages read are filled (customer,
customer_email, invoice); bulk invoices have no lines, which neither the overview nor the invoice
list reads.

The signed-in demo customer gets `DEMO_CUSTOMER_INVOICES` in all (a full first page of the
invoice list and a link to the next), the same at every size: what grows is everyone else's data.
"""
import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import chain

from sqlalchemy import JSON, func, insert, select, text
from sqlalchemy.types import TypeDecorator

from widget_server.billing.models import Invoice
from widget_server.core.extensions import db
from widget_server.customers.models import Customer, CustomerEmail
from widget_server.demo.seed import CUSTOMER_USERNAME, DEMO_SLUG
from widget_server.tenancy.models import Merchant

BATCH = 10_000
DEMO_CUSTOMER_INVOICES = 40
BULK_COMPANY = "Bench Customer Ltd"  # marks the rows made here


def demo_ids() -> tuple[int, int, str]:
    merchant = db.session.scalar(select(Merchant).where(Merchant.slug == DEMO_SLUG))
    customer_id = db.session.scalar(select(Customer.id).where(
        Customer.merchant_id == merchant.id, Customer.username == CUSTOMER_USERNAME))
    return merchant.id, customer_id, merchant.currency


def counts(merchant_id: int) -> tuple[int, int]:
    customers = db.session.scalar(select(func.count(Customer.id))
                                  .where(Customer.merchant_id == merchant_id))
    invoices = db.session.scalar(select(func.count(Invoice.id))
                                 .where(Invoice.merchant_id == merchant_id))
    return customers, invoices


def grow(customers_total: int, invoices_total: int) -> float:
    """Add customers, then invoices, until the demo merchant has this many; returns seconds."""
    started = time.perf_counter()
    merchant_id, demo_customer, currency = demo_ids()
    have_customers, have_invoices = counts(merchant_id)
    _add_customers(merchant_id, have_customers, customers_total - have_customers)
    demo_has = db.session.scalar(select(func.count(Invoice.id)).where(
        Invoice.merchant_id == merchant_id, Invoice.customer_id == demo_customer))
    owners = [demo_customer] * max(0, DEMO_CUSTOMER_INVOICES - demo_has)
    bulk = list(db.session.scalars(select(Customer.id).where(
        Customer.merchant_id == merchant_id, Customer.company == BULK_COMPANY)
        .order_by(Customer.id)))
    wanted = invoices_total - have_invoices - len(owners)
    owners += [bulk[n % len(bulk)] for n in range(max(0, wanted))]
    _add_invoices(merchant_id, currency, owners, first_number=have_invoices + 1)
    _analyze()
    return time.perf_counter() - started


def _add_customers(merchant_id: int, first: int, count: int) -> None:
    if count <= 0:
        return
    now = datetime.now(UTC)
    before = db.session.scalar(select(func.coalesce(func.max(Customer.id), 0)))
    customers = ({"merchant_id": merchant_id, "first_name": f"Customer{n}", "last_name": "Bench",
                  "company": BULK_COMPANY, "phone": "", "address_line1": "", "address_line2": "",
                  "city": "Berlin", "region": "", "postal_code": "10115", "country": "DE",
                  "status": "active", "custom_fields": {}, "failed_logins": 0,
                  "credit_minor": 0, "created_at": now, "updated_at": now}
                 for n in range(first, first + count))
    _write(Customer.__table__, customers)
    ids = list(db.session.scalars(select(Customer.id).where(Customer.id > before)
                                  .order_by(Customer.id)))
    emails = ({"customer_id": cid, "merchant_id": merchant_id,
               "address": f"customer{cid}@bench.test", "position": 0} for cid in ids)
    _write(CustomerEmail.__table__, emails)


def _add_invoices(merchant_id: int, currency: str, owners: list[int], first_number: int) -> None:
    """One invoice per entry of `owners`: a year of history, about a fifth of it still open
    (half of that overdue), the rest paid."""
    today = date.today()
    created = datetime.now(UTC)

    def rows() -> Iterator[dict]:
        for n, customer_id in enumerate(owners):
            issued = today - timedelta(days=n % 365)
            total = 1000 + (n * 7919) % 50_000
            open_ = n % 5 == 0
            yield {"merchant_id": merchant_id, "customer_id": customer_id,
                   "number": f"B-{first_number + n:08d}",
                   "status": "issued" if open_ else "paid", "currency": currency,
                   "total_minor": total, "balance_minor": total if open_ else 0,
                   "issue_date": issued, "due_date": issued + timedelta(days=30),
                   "created_at": created}

    _write(Invoice.__table__, rows())


def _write(table, rows: Iterator[dict]) -> None:
    """Insert `rows` in batches: COPY on PostgreSQL, executemany elsewhere."""
    if db.engine.dialect.name == "postgresql":
        _copy(table, rows)
        return
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            db.session.execute(insert(table), batch)
            batch = []
    if batch:
        db.session.execute(insert(table), batch)
    db.session.commit()


def _copy(table, rows: Iterator[dict]) -> None:
    """PostgreSQL's COPY, with the values each column's type would send (JSON as text, the
    UTC timestamps naive)."""
    first = next(rows, None)
    if first is None:
        return
    dialect = db.engine.dialect
    columns = list(first)

    def convert(column: str):
        kind = table.c[column].type
        if isinstance(kind, JSON):
            return json.dumps
        if isinstance(kind, TypeDecorator):
            return lambda value: kind.process_bind_param(value, dialect)
        return None

    converters = [(c, convert(c)) for c in columns]
    connection = db.session.connection().connection.driver_connection
    with connection.cursor() as cursor, cursor.copy(
            f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in chain([first], rows):
            copy.write_row([f(row[c]) if f else row[c] for c, f in converters])
    db.session.commit()


def _analyze() -> None:
    """Fresh planner statistics, as PostgreSQL's autovacuum would gather after such a load.
    SQLite gathers none by itself; `ANALYZE` there is what `PRAGMA optimize` would run."""
    db.session.execute(text("ANALYZE"))
    db.session.commit()
