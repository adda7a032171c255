"""Finding invoices and payments in the admin (issue #24 item 2): one merchant's invoices or
payments with their customer, searched and filtered, walked newest first by id (keyset pages:
the same statements on page 1 and page 5,000), and the same selection as CSV rows fetched in
batches, so an export of any size holds one batch in memory."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select

from ..core.extensions import db
from ..customers.models import Customer, CustomerEmail
from ..customers.services import listed, matches
from .models import PAYMENT_STATUSES, Invoice, Payment

# What the admin filters invoices by: the stored status, or, for an issued invoice, whether its
# due date has passed with money still owed ("overdue") or not ("open").
INVOICE_FILTERS = ("draft", "open", "overdue", "paid", "void")
BATCH = 1000  # rows fetched at a time by an export
NO_CURSOR = 2 ** 31 - 1  # above every id


@dataclass(frozen=True)
class Filters:
    query: str = ""
    status: str = ""
    customer_id: int | None = None
    date_from: date | None = None  # invoices: issue date; payments: the merchant's day paid
    date_to: date | None = None
    due_from: date | None = None  # invoices only
    due_to: date | None = None


def invoices_statement(merchant, filters: Filters, today: date):
    """(Invoice, Customer) rows of the merchant matching `filters`, newest first."""
    stmt = (select(Invoice, Customer).join(Customer, Customer.id == Invoice.customer_id)
            .where(Invoice.merchant_id == merchant.id))
    query = filters.query.strip()
    if query:
        stmt = stmt.where(or_(Invoice.number.contains(query.upper(), autoescape=True),
                              Invoice.number.contains(query, autoescape=True),
                              matches(merchant, query)))
    overdue = and_(Invoice.status == "issued", Invoice.balance_minor > 0,
                   Invoice.due_date < today)
    if filters.status == "overdue":
        stmt = stmt.where(overdue)
    elif filters.status == "open":
        stmt = stmt.where(Invoice.status == "issued", ~overdue)
    elif filters.status in ("draft", "paid", "void"):
        stmt = stmt.where(Invoice.status == filters.status)
    if filters.customer_id:
        stmt = stmt.where(Invoice.customer_id == filters.customer_id)
    for column, low, high in ((Invoice.issue_date, filters.date_from, filters.date_to),
                              (Invoice.due_date, filters.due_from, filters.due_to)):
        if low:
            stmt = stmt.where(column >= low)
        if high:
            stmt = stmt.where(column <= high)
    return stmt.order_by(Invoice.id.desc())


def _day_start(merchant, day: date) -> datetime:
    """The UTC moment the merchant's calendar day begins."""
    return datetime.combine(day, time(), ZoneInfo(merchant.timezone)).astimezone(
        ZoneInfo("UTC"))


def payments_statement(merchant, filters: Filters):
    """(Payment, Customer) rows of the merchant matching `filters`, newest first. The date range
    is the merchant's calendar days; the search reads the receipt number ("PAY-00012" or
    "12"), the gateway's reference and the customer."""
    stmt = (select(Payment, Customer).join(Customer, Customer.id == Payment.customer_id)
            .where(Payment.merchant_id == merchant.id))
    query = filters.query.strip()
    if query:
        digits = query.upper().removeprefix("PAY-").lstrip("0") or "0"
        conditions = [Payment.reference.contains(query, autoescape=True),
                      matches(merchant, query)]
        if digits.isascii() and digits.isdecimal() and len(digits) < 12:
            conditions.append(Payment.number == int(digits))
        stmt = stmt.where(or_(*conditions))
    if filters.status in PAYMENT_STATUSES:
        stmt = stmt.where(Payment.status == filters.status)
    if filters.customer_id:
        stmt = stmt.where(Payment.customer_id == filters.customer_id)
    if filters.date_from:
        stmt = stmt.where(Payment.created_at >= _day_start(merchant, filters.date_from))
    if filters.date_to:
        stmt = stmt.where(Payment.created_at < _day_start(merchant,
                                                          filters.date_to + timedelta(days=1)))
    return stmt.order_by(Payment.id.desc())


def page(stmt, model, before_id: int | None, size: int):
    """One keyset page: (rows, the id the next page starts below, or None)."""
    rows = db.session.execute(
        stmt.where(model.id < min(before_id or NO_CURSOR, NO_CURSOR)).limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1][0].id if more else None)


# --- CSV -------------------------------------------------------------------------------------

def _major(minor: int) -> str:
    """12.50 from 1250: the file's amounts are plain numbers any spreadsheet reads."""
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    return f"{sign}{minor // 100}.{minor % 100:02d}"


def _batches(engine, stmt, more=None):
    """The rows of `stmt` fetched BATCH at a time, on a connection of the export's own: the
    response streams after the request has ended (and its session with it), and a download
    dropped unread closes only this connection. Columns, never ORM objects: nothing gathers in
    an identity map. `more(conn, batch)` reads what a batch needs besides (one query each)."""
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=BATCH).execute(stmt)
        for batch in result.partitions():
            yield (batch, more(conn, batch)) if more else batch


INVOICE_HEADER = ("Number", "Customer", "Company", "Status", "Issue date", "Due date",
                  "Currency", "Total", "Balance")


def invoice_rows(merchant, filters: Filters, today: date, status_words):
    """The filtered invoices as CSV rows (header first). The statement is built now, the rows
    read as the response streams (after the request's own work is done)."""
    stmt = invoices_statement(merchant, filters, today).with_only_columns(
        Invoice.number, Customer.first_name, Customer.last_name, Customer.company,
        Invoice.status, Invoice.balance_minor, Invoice.issue_date, Invoice.due_date,
        Invoice.currency, Invoice.total_minor)
    return _invoice_lines(db.engine, stmt, today, status_words)


def _invoice_lines(engine, stmt, today, status_words):
    yield INVOICE_HEADER
    for batch in _batches(engine, stmt):
        for r in batch:
            yield (r.number, f"{r.first_name} {r.last_name}", r.company,
                   status_words(r.status, r.due_date, r.balance_minor, today),
                   r.issue_date.isoformat() if r.issue_date else "",
                   r.due_date.isoformat() if r.due_date else "",
                   r.currency, _major(r.total_minor), _major(r.balance_minor))


PAYMENT_HEADER = ("Date", "Number", "Customer", "Company", "Amount", "Currency", "Method",
                  "Status", "Reference")


def payment_rows(merchant, filters: Filters, status_words):
    stmt = payments_statement(merchant, filters).with_only_columns(
        Payment.created_at, Payment.number, Customer.first_name, Customer.last_name,
        Customer.company, Payment.amount_minor, Payment.currency, Payment.method,
        Payment.method_label, Payment.status, Payment.reference)
    return _payment_lines(db.engine, stmt, ZoneInfo(merchant.timezone), status_words)


def _payment_lines(engine, stmt, zone, status_words):
    yield PAYMENT_HEADER
    for batch in _batches(engine, stmt):
        for r in batch:
            yield (r.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                   f"PAY-{r.number:05d}" if r.number is not None else "",
                   f"{r.first_name} {r.last_name}", r.company, _major(r.amount_minor),
                   r.currency, r.method_label or r.method, status_words(r.status), r.reference)


CUSTOMER_HEADER = ("Id", "First name", "Last name", "Company", "Primary Email", "Phone",
                   "City", "Country", "Portal username")


def customer_rows(merchant, query: str, archived: bool):
    stmt = listed(merchant, query, archived=archived).with_only_columns(
        Customer.id, Customer.first_name, Customer.last_name, Customer.company, Customer.phone,
        Customer.city, Customer.country, Customer.username).order_by(
        Customer.last_name, Customer.first_name, Customer.id)
    return _customer_lines(db.engine, stmt, merchant.id)


def _customer_lines(engine, stmt, merchant_id: int):
    def emails_of(conn, batch) -> dict[int, list[str]]:
        emails: dict[int, list[str]] = {}
        for customer_id, address in conn.execute(
                select(CustomerEmail.customer_id, CustomerEmail.address)
                .where(CustomerEmail.merchant_id == merchant_id,
                       CustomerEmail.customer_id.in_([r.id for r in batch]))
                .order_by(CustomerEmail.customer_id, CustomerEmail.position)):
            emails.setdefault(customer_id, []).append(address)
        return emails

    yield CUSTOMER_HEADER
    for batch, emails in _batches(engine, stmt, emails_of):
        for r in batch:
            yield (r.id, r.first_name, r.last_name, r.company,
                   ", ".join(emails.get(r.id, [])), r.phone, r.city, r.country,
                   r.username or "")
