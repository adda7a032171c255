"""One payment in flight per invoice (W-3): a payment claims its invoices with one conditional
UPDATE before the gateway is called and releases them when it settles. Two tabs, a tab and the
worker, or the API and a tab cannot charge one invoice twice: the second claim waits on the
first (PostgreSQL's row lock, SQLite's write lock), then finds the invoice taken."""
from sqlalchemy import func, or_, select, update

from ..core.domain import DomainError
from ..core.extensions import db
from ..core.i18n import gettext as _
from .models import Invoice, Payment


def in_progress_error() -> DomainError:
    return DomainError(_("A payment for this invoice is being processed; it is not offered "
                        "again until it completes."), "invoices", code="payment_in_progress",
                        status=409)


def in_progress(invoices: list[Invoice]) -> set[int]:
    """Of these invoices, those with a payment in flight: paying them again could charge twice
    (the pending one may yet succeed), so they are not offered until it settles."""
    return {i.id for i in invoices if i.payment_claim_id is not None}


def claim(merchant, payment: Payment, invoice_ids: list[int]) -> bool:
    """Make `payment` the one in flight for those of the invoices still open, atomically: a
    conditional UPDATE that a concurrent claim waits on (PostgreSQL's row lock, SQLite's write
    lock) and then finds taken. False when another payment holds one of them; the caller rolls
    back and charges nothing."""
    if not invoice_ids:
        return True
    open_ = (Invoice.merchant_id == merchant.id, Invoice.customer_id == payment.customer_id,
             Invoice.id.in_(invoice_ids), Invoice.status == "issued", Invoice.balance_minor > 0)
    db.session.execute(update(Invoice).where(*open_, Invoice.payment_claim_id.is_(None))
                       .values(payment_claim_id=payment.id)
                       .execution_options(synchronize_session=False))
    # every invoice still open must now be this payment's: one held by another, or released
    # by it between the UPDATE and now (PostgreSQL reads a new snapshot), is not ours
    held_by_others = db.session.scalar(select(func.count(Invoice.id)).where(
        *open_, or_(Invoice.payment_claim_id.is_(None),
                    Invoice.payment_claim_id != payment.id)))
    return held_by_others == 0


def claimed_balance(payment: Payment) -> int:
    """What the invoices this payment holds still owe."""
    return int(db.session.scalar(select(func.coalesce(func.sum(Invoice.balance_minor), 0))
                                 .where(Invoice.payment_claim_id == payment.id)))


def release(payment: Payment) -> None:
    """The payment has settled: its invoices may be paid again (what is left of them)."""
    db.session.execute(update(Invoice).where(Invoice.payment_claim_id == payment.id)
                       .values(payment_claim_id=None)
                       .execution_options(synchronize_session=False))
