"""Payment methods kept on file and autopay (W-4, P-2 Credit Card/ACH Mode).

A customer has at most one default method; autopay charges it. Removing the default promotes
the newest remaining method; removing the last one ends autopay, and payments scheduled with
a removed method are cancelled rather than charged to a method the customer took away.
"""
from sqlalchemy import select, update

from ..core.domain import DomainError
from ..core.extensions import db
from ..core.i18n import gettext as _
from .gateways import MethodToken
from .models import Payment, PaymentMethod
from .payment_history import label_words
from .providers import gateway_for
from .reasons import INVOICE_PAID, N_


def on_file(merchant, customer, kinds=None) -> list[PaymentMethod]:
    """The customer's saved methods, the default first; only `kinds` when given."""
    query = select(PaymentMethod).where(PaymentMethod.merchant_id == merchant.id,
                                        PaymentMethod.customer_id == customer.id)
    if kinds is not None:
        query = query.where(PaymentMethod.kind.in_(list(kinds)))
    return list(db.session.scalars(
        query.order_by(PaymentMethod.is_default.desc(), PaymentMethod.id.desc())))


def owned(merchant, customer, method_id: int) -> PaymentMethod | None:
    method = db.session.get(PaymentMethod, method_id)
    if method is None or method.merchant_id != merchant.id or method.customer_id != customer.id:
        return None
    return method


def default_method(merchant, customer) -> PaymentMethod | None:
    return db.session.scalar(
        select(PaymentMethod).where(PaymentMethod.merchant_id == merchant.id,
                                    PaymentMethod.customer_id == customer.id,
                                    PaymentMethod.is_default.is_(True)))


def keep(merchant, customer, method: MethodToken, *, autopay: bool = False) -> PaymentMethod:
    """Keep a method on file (in the caller's transaction). The first one, or one chosen for
    autopay, becomes the default."""
    saved = db.session.scalar(
        select(PaymentMethod).where(PaymentMethod.merchant_id == merchant.id,
                                    PaymentMethod.customer_id == customer.id,
                                    PaymentMethod.token == method.token))
    if saved is None:
        saved = PaymentMethod(merchant_id=merchant.id, customer_id=customer.id,
                              kind=method.kind, token=method.token, label=method.label,
                              expires=method.expires, is_default=False)
        db.session.add(saved)
        db.session.flush()
    if autopay or default_method(merchant, customer) is None:
        _make_default(merchant, customer, saved)
    if autopay:
        customer.autopay = True
    return saved


def make_default(merchant, customer, method_id: int) -> bool:
    method = owned(merchant, customer, method_id)
    if method is None:
        return False
    _make_default(merchant, customer, method)
    db.session.flush()
    return True


def _make_default(merchant, customer, method: PaymentMethod) -> None:
    db.session.execute(update(PaymentMethod).where(
        PaymentMethod.merchant_id == merchant.id, PaymentMethod.customer_id == customer.id,
        PaymentMethod.id != method.id).values(is_default=False))
    method.is_default = True


def remove(merchant, customer, method_id: int) -> str | None:
    """Remove one of the customer's methods; the message says what changed with it (a new
    default, autopay ended), or None when it is not the customer's."""
    method = owned(merchant, customer, method_id)
    if method is None:
        return None
    gateway_for(merchant).detach(method.token)
    db.session.execute(update(Payment).where(
        Payment.merchant_id == merchant.id, Payment.customer_id == customer.id,
        Payment.status == "scheduled", Payment.method_token == method.token)
        .values(status="cancelled", method_token="",
                failure_message=N_("Cancelled: the payment method was removed.")))
    was_default = method.is_default
    db.session.delete(method)
    db.session.flush()
    remaining = on_file(merchant, customer)
    messages = [_("%(method)s was removed.", method=label_words(method.label))]
    if was_default and remaining:
        _make_default(merchant, customer, remaining[0])
        label = label_words(remaining[0].label)
        messages.append(_("%(method)s is now your default, used for autopay.", method=label)
                        if customer.autopay else _("%(method)s is now your default.", method=label))
    if not remaining and customer.autopay:
        customer.autopay = False
        cancel_autopay(merchant, customer)
        messages.append(_("Autopay is off: no payment method is left."))
    db.session.flush()
    return " ".join(messages)


def set_autopay(merchant, customer, on: bool, rules) -> str:
    """Turn autopay on or off by the profile's Payment tab `rules` (P-2, P-8); what the
    customer is told. On needs payments allowed, methods kept and a default method; off is
    always the customer's right, unless the merchant requires autopay (and takes payments)."""
    if on and (not rules.allow_payments or rules.card_ach_mode == "no_save"):
        raise DomainError(_("Autopay is not offered here."), code="not_offered", status=403)
    if not on and rules.allow_payments and rules.card_ach_mode == "force_autopay":
        raise DomainError(_("Autopay is required for this account."), code="required",
                          status=403)
    if on and default_method(merchant, customer) is None:
        raise DomainError(_("Save a payment method first: autopay charges your default method."),
                          code="no_method", status=409)
    customer.autopay = on
    if not on:
        cancel_autopay(merchant, customer)
    db.session.flush()
    return _("Autopay is on.") if on else _("Autopay is off.")


def cancel_autopay(merchant, customer, invoice_ids=None, *, reason: str = "") -> int:
    """Scheduled autopay payments are cancelled at once when autopay ends (or, for
    `invoice_ids`, when those invoices are paid or the customer chose a date for them), so the
    history never shows a charge that will not happen."""
    which = [Payment.merchant_id == merchant.id, Payment.customer_id == customer.id,
             Payment.status == "scheduled", Payment.source == "autopay"]
    if invoice_ids is not None:
        which.append(Payment.idempotency_key.in_([f"autopay-invoice-{i}" for i in invoice_ids]))
    return db.session.execute(update(Payment).where(*which).values(
        status="cancelled", method_token="",
        failure_message=reason or (N_("Autopay was turned off.") if invoice_ids is None
                                   else INVOICE_PAID))).rowcount
