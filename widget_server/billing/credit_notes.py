"""Credit notes (#24 item 3, T-7): an amount taken back on an issued or paid invoice, with a
reason, numbered from the merchant's counter (CN-00001).

What it does to balances: it takes what it can off the invoice's balance, never below zero (an
invoice it brings to zero is paid); the rest, `credit_minor`, becomes the customer's account
credit, which pays their next invoices (`credit.apply_to`). An invoice is never credited for
more than its total: `invoice.credited_minor` is raised by one conditional UPDATE, so two
credit notes at once cannot pass it either. The amount is tax included; its tax is the
invoice's own proportion of tax to total, shown on the credit note's PDF.
"""
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..core import events
from ..core.domain import DomainError
from ..core.extensions import db
from ..core.i18n import gettext as _
from ..core.money import format_money
from ..customers.models import Customer
from ..tenancy.counters import next_number
from . import schedules, tax
from .models import CreditNote, Invoice

SEQUENCE = "credit_note"
MAX_REASON = 300


def by_key(merchant, key: str) -> CreditNote | None:
    return db.session.scalar(select(CreditNote).where(CreditNote.merchant_id == merchant.id,
                                                      CreditNote.idempotency_key == key))


def of_invoice(merchant, invoice_id: int) -> list[CreditNote]:
    return list(db.session.scalars(select(CreditNote).where(
        CreditNote.merchant_id == merchant.id, CreditNote.invoice_id == invoice_id)
        .order_by(CreditNote.id)))


def get(merchant, note_id: int, customer_id: int | None = None) -> CreditNote | None:
    stmt = select(CreditNote).where(CreditNote.merchant_id == merchant.id,
                                    CreditNote.id == note_id)
    if customer_id is not None:
        stmt = stmt.where(CreditNote.customer_id == customer_id)
    return db.session.scalar(stmt)


def tax_share(invoice: Invoice, amount_minor: int) -> int:
    """The tax in `amount_minor` at the invoice's proportion of tax to total (half up)."""
    summary = tax.summary(invoice.lines)
    if summary is None or not invoice.total_minor:
        return 0
    tax_total = sum(r.tax_minor for r in summary.rates)
    return (2 * amount_minor * tax_total + invoice.total_minor) // (2 * invoice.total_minor)


def issue(merchant, invoice: Invoice, amount_minor: int | None, *, reason: str,
          idempotency_key: str, today) -> CreditNote:
    """Credit `amount_minor` (tax included) on the invoice; raises `DomainError` next to the
    field at fault. The same key (a form posted twice) gives back the first credit note."""
    earlier = by_key(merchant, idempotency_key)
    if earlier is not None:
        if earlier.invoice_id != invoice.id:
            raise DomainError(_("This form has expired; please reload the page."))
        return earlier
    if invoice.merchant_id != merchant.id or invoice.status not in ("issued", "paid"):
        raise DomainError(_("Only issued or paid invoices can be credited."), "amount")
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = _("Say why the invoice is credited; the customer reads it.")
    elif len(reason) > MAX_REASON:
        errors["reason"] = _("Keep the reason under %(n)d characters.", n=MAX_REASON)
    creditable = invoice.total_minor - invoice.credited_minor
    amount = creditable if amount_minor is None else amount_minor
    if amount <= 0:
        errors["amount"] = (_("Enter an amount above zero.") if creditable
                            else _("This invoice is credited in full."))
    elif amount > creditable:
        errors["amount"] = _("At most %(amount)s of this invoice can still be credited.",
                             amount=format_money(creditable, invoice.currency,
                                                 merchant.locale))
    if errors:
        raise DomainError.of(errors)
    raised = db.session.execute(
        update(Invoice).where(Invoice.id == invoice.id,
                              Invoice.credited_minor + amount <= Invoice.total_minor)
        .values(credited_minor=Invoice.credited_minor + amount)
        .execution_options(synchronize_session=False))
    if raised.rowcount != 1:
        raise DomainError(_("Another credit note was issued meanwhile; reload the page."),
                          "amount", code="credit_exceeds", status=409)
    applied = _take_off_balance(invoice, amount)
    note = CreditNote(merchant_id=merchant.id, customer_id=invoice.customer_id,
                      invoice_id=invoice.id, number=f"CN-{next_number(merchant, SEQUENCE):05d}",
                      amount_minor=amount, tax_minor=tax_share(invoice, amount),
                      applied_minor=applied, credit_minor=amount - applied,
                      currency=invoice.currency, reason=reason,
                      idempotency_key=idempotency_key, issue_date=today)
    db.session.add(note)
    try:
        db.session.flush()
    except IntegrityError:  # the same form posted twice at once: the first one stands
        db.session.rollback()
        earlier = by_key(merchant, idempotency_key)
        if earlier is None:
            raise
        return earlier
    if note.credit_minor:
        db.session.execute(update(Customer).where(Customer.id == invoice.customer_id)
                           .values(credit_minor=Customer.credit_minor + note.credit_minor))
    db.session.refresh(invoice)
    if applied and invoice.status == "paid":  # nothing left for its autopay to charge
        schedules.cancel_for_paid(merchant, db.session.get(Customer, invoice.customer_id),
                                  [invoice.id])
    # its email (Credit Note Issued) is a subscriber's, in this transaction
    events.record(merchant, "credit_note.issued", credit_note_id=note.id,
                  invoice_id=invoice.id, customer_id=invoice.customer_id)
    return note


def _take_off_balance(invoice: Invoice, amount: int) -> int:
    """Lower the balance by up to `amount`, never below zero (conditional UPDATE: a payment
    settling at the same moment is never overpaid), and mark a zero balance paid."""
    while True:
        db.session.refresh(invoice, ["balance_minor", "status"])
        take = min(amount, invoice.balance_minor) if invoice.status == "issued" else 0
        if take <= 0:
            return 0
        done = db.session.execute(
            update(Invoice).where(Invoice.id == invoice.id, Invoice.balance_minor >= take)
            .values(balance_minor=Invoice.balance_minor - take)
            .execution_options(synchronize_session=False))
        if done.rowcount == 1:
            db.session.execute(update(Invoice).where(Invoice.id == invoice.id,
                                                     Invoice.balance_minor == 0)
                               .values(status="paid")
                               .execution_options(synchronize_session=False))
            return take
