"""The checkout service: every way money comes in from a customer (the Pay page, guest payment
today; the cart and the API next) is one typed `PaymentRequest` checked here against the
profile's Payment tab (P-2, P-8) and handed to `payments.pay`.

Pages parse and render; the rules live here. A request that breaks a rule is refused with a
message and a field, never silently turned into another payment: an amount typed where only the
balance may be paid, invoices picked where all must be paid together, a date where payments are
made today, a method kept where methods are not kept.
"""
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, timedelta

from ..core.domain import DomainError
from ..core.i18n import gettext as _
from . import claims, invoices, methods, payment_history, payments, schedules
from .gateways import MethodToken
from .models import Payment

MAX_AMOUNT_MINOR = 100_000_000_00


@dataclass(frozen=True)
class PaymentRequest:
    """What the customer asked for, parsed but not yet judged."""

    idempotency_key: str
    invoice_ids: tuple[int, ...] = ()
    amount_minor: int | None = None  # None: the chosen invoices' balance
    method: MethodToken | None = None  # a new card or account, tokenised by the gateway
    saved_method_id: int | None = None  # or one kept on file
    payment_date: date | None = None  # None or today: now
    save: bool = False
    autopay: bool = False
    source: str = "browser"  # browser | guest
    client: dict = field(default_factory=dict)  # the browser, for a bank debit mandate
    # The Payment tab as the page showed it (`rules_fingerprint`): a request made under other
    # rules is sent back for review, never charged by rules the customer did not see (P-8).
    rules_seen: str | None = None
    # The invoice of an order just placed (the cart's checkout, #22): that invoice alone is
    # paid, in full, whatever the Pay page's invoice choice.
    own_order: bool = False


def rules_fingerprint(rules) -> str:
    """A short fingerprint of a profile's Payment tab as it stands."""
    values = json.dumps(rules.as_dict(), sort_keys=True, default=str)
    return hashlib.sha256(values.encode()).hexdigest()[:16]


def submit(merchant, customer, rules, request: PaymentRequest, today: date) -> Payment:
    """Pay (or schedule) by the profile's Payment tab `rules`; raises `DomainError` for a
    request the rules refuse, before anything is charged."""
    earlier = payment_history.find_attempt(merchant, customer, request.idempotency_key)
    if earlier is not None:  # the same attempt again (double click, reload): no new charge
        return earlier
    guest = request.source == "guest"
    chosen, amount = quote(merchant, customer, rules, request)
    when = None if guest else check_date(rules, request.payment_date, today)
    method, saved = _method(merchant, customer, rules, request)
    save, autopay = (False, False) if guest else _saving(rules, request, saved)
    replaced = (_one_schedule_per_invoice(merchant, customer, [i.id for i in chosen])
                if when is not None else 0)
    return payments.pay(merchant, customer, chosen, amount, method=method,
                        idempotency_key=request.idempotency_key, save=save, autopay=autopay,
                        scheduled_for=when, balance_mode=request.amount_minor is None,
                        client=request.client, saved=saved,
                        source="schedule" if when else request.source,
                        notes={"replaced_autopay": True} if replaced else None)


def quote(merchant, customer, rules, request: PaymentRequest) -> tuple[list, int]:
    """The invoices a request pays and the amount it charges, by the rules, charging nothing:
    what the Pay page shows before anything is charged (#20, W-12) is what `submit` charges,
    as both take it from here. Raises `DomainError` as `submit` would (nothing chosen, an
    amount the rules refuse, rules changed since the page was shown). Only `invoice_ids`,
    `amount_minor`, `source` and `rules_seen` are read."""
    if request.rules_seen is not None and request.rules_seen != rules_fingerprint(rules):
        raise DomainError(_("The payment options have changed. Please review the payment and "
                          "submit it again."), code="rules_changed")
    return _invoices_and_amount(merchant, customer, rules, request,
                                request.source == "guest")


def _invoices_and_amount(merchant, customer, rules, request, guest: bool):
    open_invoices = invoices.outstanding(merchant, customer)
    asked = set(request.invoice_ids)
    if asked & {i.id for i in open_invoices if i.payment_claim_id is not None}:
        raise claims.in_progress_error()
    if request.amount_minor is not None and (guest or rules.payment_amount != "any"):
        raise DomainError(_("The amount paid here is your invoices' balance; it cannot be "
                           "changed."), "amount")
    if guest or request.own_order or rules.invoice_choice == "select":
        chosen = [i for i in open_invoices if i.id in asked]
        if len(chosen) != len(asked):
            if invoices.any_paid(merchant, customer, asked - {i.id for i in chosen}):
                raise DomainError(_("This invoice is already paid: nothing more is due."),
                                   "invoices", code="nothing_due", status=409)
            raise DomainError(_("Choose among your outstanding invoices."), "invoices")
    else:  # "must pay all": every outstanding invoice not already being paid, nothing else
        chosen = [i for i in open_invoices if i.payment_claim_id is None]
        if asked and asked != {i.id for i in chosen}:
            raise DomainError(_("All outstanding invoices are paid together here."), "invoices")
    if request.amount_minor is None:
        if not chosen:
            raise DomainError(_("Choose at least one invoice to pay."), "invoices")
        return chosen, sum(i.balance_minor for i in chosen)
    if request.amount_minor <= 0:
        raise DomainError(_("Enter an amount above zero."), "amount")
    if request.amount_minor > MAX_AMOUNT_MINOR:
        raise DomainError(_("That amount is too large."), "amount")
    return chosen, request.amount_minor


def check_date(rules, chosen: date | None, today: date) -> date | None:
    """The effective date asked for: None for today, a later date only with Edit Effective
    Date on (P-2, refused when crafted without it), within a year."""
    if chosen is None or chosen == today:
        return None
    if not rules.edit_effective_date:
        raise DomainError(_("Payments cannot be scheduled here; they are made today."),
                           "payment_date")
    if chosen < today:
        raise DomainError(_("Choose today or a later date."), "payment_date")
    if chosen > today + timedelta(days=payments.MAX_SCHEDULE_DAYS):
        raise DomainError(_("Choose a date within a year."), "payment_date")
    return chosen


def _method(merchant, customer, rules, request) -> tuple[MethodToken, bool]:
    """The method to charge and whether it is one kept on file; of a kind the profile takes."""
    if request.saved_method_id is not None:
        kept = (methods.owned(merchant, customer, request.saved_method_id)
                if rules.card_ach_mode != "no_save" else None)
        if kept is None or kept.kind not in rules.payment_methods:
            raise DomainError(_("Choose one of the payment methods offered."), "method")
        return MethodToken(kept.token, kept.label, kept.kind, kept.expires), True
    if request.method is None or request.method.kind not in rules.payment_methods:
        raise DomainError(_("This payment method is not accepted here."), "method")
    return request.method, False


def _saving(rules, request, saved: bool) -> tuple[bool, bool]:
    """Save and autopay as Credit Card/ACH Mode allows: optional, forced, or not offered."""
    mode = rules.card_ach_mode
    if mode == "force_autopay":
        return (not saved), True
    if mode == "no_save":
        if request.save or request.autopay:
            raise DomainError(_("Saving a payment method is not offered here."), "save_method")
        return False, False
    return (request.save or request.autopay) and not saved, request.autopay


def _one_schedule_per_invoice(merchant, customer, invoice_ids: list[int]) -> int:
    """One invoice, at most one scheduled payment (#18 defect 5): the customer's own date
    replaces the autopay for those invoices (how many it replaced is returned, so the page
    can say so); a second date of their own is refused."""
    if not invoice_ids:
        return 0
    if set(invoice_ids) & set(schedules.by_invoice(merchant, customer)):
        raise DomainError(
            _("A payment for this invoice is already scheduled. Cancel it under Payments to "
            "choose another date."), "invoices", code="already_scheduled", status=409)
    return methods.cancel_autopay(merchant, customer, invoice_ids, reason=schedules.REPLACED)
