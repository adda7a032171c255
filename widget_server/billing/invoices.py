"""Building invoices from catalogue lines; totals are computed here and only here."""
from datetime import date

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..catalogue.models import Product
from ..catalogue.services import active_products
from ..core.domain import DomainError
from ..core.extensions import db
from ..core.i18n import gettext
from ..core.paging import page_after
from ..core.reads import Read
from ..tenancy.counters import next_number
from .models import Invoice, InvoiceLine

# Issued invoices are numbered without gaps; a draft carries a draft label until it is issued.
INVOICE_SEQUENCE, DRAFT_SEQUENCE = "invoice", "invoice_draft"
DRAFT_PREFIX = "DRAFT-"


def next_invoice_number(merchant) -> str:
    """The next issued invoice number ("INV-00042"), taken in the caller's transaction.

    A number already on one of the merchant's invoices (an import, say) is skipped, so such a
    number never makes issuing fail.
    """
    while True:
        number = f"INV-{next_number(merchant, INVOICE_SEQUENCE):05d}"
        if not _number_taken(merchant, number):
            return number


def next_draft_number(merchant) -> str:
    """A label for a new draft ("DRAFT-00007"); the draft takes its real number when issued."""
    while True:
        number = f"{DRAFT_PREFIX}{next_number(merchant, DRAFT_SEQUENCE):05d}"
        if not _number_taken(merchant, number):
            return number


def _number_taken(merchant, number: str) -> bool:
    return db.session.scalar(select(Invoice.id).where(Invoice.merchant_id == merchant.id,
                                                      Invoice.number == number)) is not None


def is_draft_number(number: str) -> bool:
    return number.startswith(DRAFT_PREFIX)


def build_invoice(merchant, customer, items: list[tuple[Product, int]], *, number: str,
                  issue_date: date | None, due_date: date | None,
                  status: str = "issued") -> Invoice:
    """An invoice with one line per (product, quantity); the balance starts at the total.

    Every product must be in the merchant's currency: an invoice never mixes currencies.
    """
    invoice = Invoice(merchant_id=merchant.id, customer_id=customer.id, number=number,
                      status=status, currency=merchant.currency, issue_date=issue_date,
                      due_date=due_date)
    invoice.lines = [InvoiceLine.for_product(merchant, product, quantity, position)
                     for position, (product, quantity) in enumerate(items)]
    invoice.total_minor = invoice.balance_minor = sum(line.amount_minor for line in invoice.lines)
    db.session.add(invoice)
    return invoice


def create_draft(merchant, customer, lines: list[tuple[int, int]], due_date: date | None,
                 request_key: str | None = None):
    """A draft from (product id, quantity) lines; products of other merchants are refused.
    With `request_key` (a customer's form), the same key gives back the invoice it made."""
    if request_key and (made := by_request_key(merchant, customer, request_key)) is not None:
        return made
    wanted = [(pid, qty) for pid, qty in lines if pid]
    if not wanted:
        raise DomainError(gettext("Add at least one line with a product and a quantity."),
                          "lines")
    if any(not 1 <= qty <= 10000 for _, qty in wanted):
        raise DomainError(gettext("Quantities are whole numbers from 1 to 10,000."), "lines")
    offered = {p.id: p for p in active_products(merchant)}
    if any(pid not in offered for pid, _ in wanted):
        raise DomainError(gettext("Choose products from your catalogue."), "lines")
    invoice = build_invoice(merchant, customer, [(offered[pid], qty) for pid, qty in wanted],
                            number=next_draft_number(merchant), issue_date=None,
                            due_date=due_date, status="draft")
    invoice.request_key = request_key
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        if request_key and (made := by_request_key(merchant, customer, request_key)):
            return made  # the same form, posted twice at once
        raise
    return invoice


def by_request_key(merchant, customer, key: str) -> Invoice | None:
    return db.session.scalar(select(Invoice).where(Invoice.merchant_id == merchant.id,
                                                   Invoice.customer_id == customer.id,
                                                   Invoice.request_key == key))


def get_invoice(merchant, invoice_id: int, customer_id: int | None = None) -> Invoice | None:
    stmt = select(Invoice).where(Invoice.merchant_id == merchant.id, Invoice.id == invoice_id)
    if customer_id is not None:
        stmt = stmt.where(Invoice.customer_id == customer_id)
    return db.session.scalar(stmt)


def list_for_merchant(merchant, customer_id: int | None = None, limit: int = 100):
    stmt = select(Invoice).where(Invoice.merchant_id == merchant.id)
    if customer_id is not None:
        stmt = stmt.where(Invoice.customer_id == customer_id)
    return list(db.session.scalars(stmt.order_by(Invoice.id.desc()).limit(limit)))


# What a list of invoices shows: a page that only reads them takes these columns as rows, not
# entities (the ORM's identity map and attribute machinery were a fifth of the list's time, #26).
LIST_COLUMNS = (Invoice.id, Invoice.number, Invoice.status, Invoice.due_date, Invoice.currency,
                Invoice.total_minor, Invoice.balance_minor)


def _customer_list(outstanding_only: bool, rows: bool = False):
    stmt = select(*LIST_COLUMNS) if rows else select(Invoice)
    stmt = stmt.where(Invoice.merchant_id == bindparam("merchant"),
                                 Invoice.customer_id == bindparam("customer"),
                                 Invoice.status != "draft", Invoice.id < bindparam("before"))
    if outstanding_only:
        stmt = stmt.where(Invoice.status == "issued", Invoice.balance_minor > 0)
    return stmt.order_by(Invoice.id.desc()).limit(bindparam("limit"))


# Built once (the widget's invoice list runs one per page view): all, and outstanding only;
# the rows through the driver (core.reads).
CUSTOMER_LIST = {(outstanding, rows): Read(_customer_list(outstanding, rows)) if rows
                 else _customer_list(outstanding, rows)
                 for outstanding in (False, True) for rows in (False, True)}
NO_CURSOR = 2 ** 31 - 1  # above every id (ids are 32-bit INTEGER on PostgreSQL)


def list_for_customer(merchant, customer, *, before_id: int | None = None,
                      outstanding_only: bool = False, limit: int = 20, rows: bool = False
                      ) -> list:
    """Keyset pagination (newest first, by id): the same cost on page 1 and page 5,000.
    `rows`: `LIST_COLUMNS` rows instead of entities, for a page that only shows them."""
    params = {"merchant": merchant.id, "customer": customer.id,
              "before": min(before_id or NO_CURSOR, NO_CURSOR), "limit": limit}
    statement = CUSTOMER_LIST[bool(outstanding_only), rows]
    if rows:
        return statement.all(**params)
    return list(db.session.scalars(statement, params))


def newer_for_customer(merchant, customer, *, after_id: int, outstanding_only: bool = False,
                       limit: int = 20, rows: bool = False) -> list:
    """The page of invoices just newer than `after_id`, newest first (the "newer" link of the
    keyset pagination, #20): the `limit` oldest of those above the cursor."""
    stmt = (select(*LIST_COLUMNS) if rows else select(Invoice)).where(
        Invoice.merchant_id == merchant.id, Invoice.customer_id == customer.id,
        Invoice.status != "draft", Invoice.id > after_id)
    if outstanding_only:
        stmt = stmt.where(Invoice.status == "issued", Invoice.balance_minor > 0)
    stmt = stmt.order_by(Invoice.id).limit(limit)
    found = db.session.execute(stmt).all() if rows else db.session.scalars(stmt).all()
    return list(reversed(found))


def void(invoice: Invoice) -> None:
    """Void a draft or an unpaid issued invoice; never one with a payment in flight (the charge
    would land on a void invoice and become credit). One conditional UPDATE, so a payment that
    claims it at the same moment is either first (void refused) or finds it void."""
    if invoice.status not in ("draft", "issued") or invoice.balance_minor < invoice.total_minor:
        raise DomainError("Only drafts and unpaid issued invoices can be voided.")
    done = db.session.execute(
        update(Invoice).where(Invoice.id == invoice.id, Invoice.payment_claim_id.is_(None),
                              Invoice.status.in_(("draft", "issued")),
                              Invoice.balance_minor == Invoice.total_minor)
        .values(status="void").execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise DomainError("A payment for this invoice is being processed; it cannot be voided "
                          "until that payment completes.", code="payment_in_progress",
                          status=409)
    db.session.refresh(invoice)


def outstanding(merchant, customer) -> list[Invoice]:
    return list(db.session.scalars(
        select(Invoice).where(Invoice.merchant_id == merchant.id,
                              Invoice.customer_id == customer.id, Invoice.status == "issued",
                              Invoice.balance_minor > 0)
        .order_by(Invoice.due_date, Invoice.id)))


def any_paid(merchant, customer, invoice_ids) -> bool:
    """Whether one of these is the customer's and paid (a tab that lost the race to pay it)."""
    return db.session.scalar(select(func.count(Invoice.id)).where(
        Invoice.merchant_id == merchant.id, Invoice.customer_id == customer.id,
        Invoice.id.in_(list(invoice_ids)), Invoice.status == "paid")) > 0



def invoices_after(merchant, *, limit: int = 10, starting_after: int | None = None,
                   **equal) -> tuple[list, bool]:
    """A page of the merchant's invoices in id order after `starting_after` (the API's cursor,
    #25), optionally one customer's (`customer_id`) or in one `status`."""
    return page_after(select(Invoice).where(Invoice.merchant_id == merchant.id)
                      .options(selectinload(Invoice.lines)), Invoice.id,
                      limit=limit, starting_after=starting_after, **equal)
