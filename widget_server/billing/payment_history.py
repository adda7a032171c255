"""A customer's payments as they look them up: by the attempt's idempotency key (a double
submit finds its first payment) and newest first, keyset-paginated."""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..core.extensions import db
from ..core.i18n import lazy_gettext as _l
from ..core.paging import page_after
from .models import Payment, PaymentAllocation

# How money arrived that did not come through the portal (#24), in the customer's language:
# the stored label is the admin's English.
METHOD_WORDS = {"transfer": _l("Bank transfer"), "cheque": _l("Cheque"), "cash": _l("Cash"),
                "credit": _l("Account credit")}
# The generic words of a stored method label ("Card •••• 4242", "Bank account •••• 6789",
# "Autopay"), written by the gateways in English; a brand or a bank's name is a name and stays.
LABEL_WORDS = {"Card": _l("Card"), "Bank account": _l("Bank account"), "Autopay": _l("Autopay")}
# what a payment paid (W-12), loaded with the payments: two more queries, whatever the count
_PAID = selectinload(Payment.allocations).selectinload(PaymentAllocation.invoice)


def find_attempt(merchant, customer, key: str) -> Payment | None:
    """The payment already made with this idempotency key by this customer, if any."""
    payment = by_key(merchant, key)
    return payment if payment is not None and payment.customer_id == customer.id else None


def history(merchant, customer, *, before: int | None = None, limit: int = 20) -> list[Payment]:
    """The customer's payments, newest first, keyset-paginated by id."""
    query = select(Payment).where(Payment.merchant_id == merchant.id,
                                  Payment.customer_id == customer.id)
    if before is not None:
        query = query.where(Payment.id < before)
    return list(db.session.scalars(query.order_by(Payment.id.desc()).limit(limit)
                                   .options(_PAID)))


def receipt(merchant, customer, payment_id: int) -> Payment | None:
    """A succeeded payment of this customer with what it paid, or None (W-12): another
    merchant's or customer's payment, or one that has not succeeded, has no receipt here."""
    return db.session.scalar(select(Payment).where(
        Payment.id == payment_id, Payment.merchant_id == merchant.id,
        Payment.customer_id == customer.id, Payment.status == "succeeded",
        Payment.number.is_not(None)).options(_PAID))


def paid_invoices(payment: Payment) -> list:
    """The allocations of a payment, in invoice number order."""
    return sorted(payment.allocations, key=lambda a: (a.invoice.number, a.id))


def by_key(merchant, key: str) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.merchant_id == merchant.id,
                                                   Payment.idempotency_key == key))


def allocations_of(payment: Payment) -> list[PaymentAllocation]:
    """What a payment paid, read afresh (the allocations are added after it was loaded), in
    invoice number order: the thank-you page lists them (#20)."""
    rows = db.session.scalars(select(PaymentAllocation).where(
        PaymentAllocation.payment_id == payment.id)
        .options(selectinload(PaymentAllocation.invoice)))
    return sorted(rows, key=lambda a: (a.invoice.number, a.id))


def of_merchant(merchant, payment_id: int) -> Payment | None:
    """Any payment of the merchant, with what it paid (the admin's payment page, #24)."""
    return db.session.scalar(select(Payment).where(Payment.id == payment_id,
                                                   Payment.merchant_id == merchant.id)
                             .options(_PAID))


def paying(merchant, invoice_id: int) -> list[PaymentAllocation]:
    """What paid an invoice: its allocations with their payments (the admin's invoice page)."""
    return list(db.session.scalars(select(PaymentAllocation).where(
        PaymentAllocation.merchant_id == merchant.id,
        PaymentAllocation.invoice_id == invoice_id)
        .options(selectinload(PaymentAllocation.payment)).order_by(PaymentAllocation.id)))


def refunds_and_credit_notes(merchant, customer, limit: int = 50) -> tuple[list, list]:
    """The customer's refunds (succeeded or under way) and credit notes, newest first: the
    widget's payment history lists them under the payments (#24). Two queries."""
    from .models import CreditNote, Refund

    refunds = db.session.scalars(select(Refund).where(
        Refund.merchant_id == merchant.id, Refund.customer_id == customer.id,
        Refund.status != "failed").order_by(Refund.id.desc()).limit(limit)
        .options(selectinload(Refund.payment))).all()
    notes = db.session.scalars(select(CreditNote).where(
        CreditNote.merchant_id == merchant.id, CreditNote.customer_id == customer.id)
        .order_by(CreditNote.id.desc()).limit(limit)
        .options(selectinload(CreditNote.invoice))).all()
    return list(refunds), list(notes)


def method_words(payment) -> str:
    """The method a customer reads: their card's label, or an offline method in words."""
    if payment.source in ("offline", "credit"):
        return str(METHOD_WORDS.get(payment.method, payment.method_label))
    return label_words(payment.method_label) or payment.method


def label_words(label: str) -> str:
    """A stored method label in the customer's words: "Karte •••• 4242" for "Card •••• 4242"."""
    word, dots, rest = (label or "").partition(" •••• ")
    known = LABEL_WORDS.get(word)
    return f"{known}{dots}{rest}" if known is not None else label



def payments_after(merchant, *, limit: int = 10, starting_after: int | None = None,
                   **equal) -> tuple[list, bool]:
    """A page of the merchant's payments in id order after `starting_after` (the API's cursor,
    #25), optionally one customer's (`customer_id`) or in one `status`, with what each paid."""
    return page_after(select(Payment).where(Payment.merchant_id == merchant.id).options(_PAID),
                      Payment.id, limit=limit, starting_after=starting_after, **equal)
