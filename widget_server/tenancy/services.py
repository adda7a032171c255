"""Merchant configuration services (T-1, T-3)."""
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..core.domain import DomainError
from ..core.extensions import db
from ..core.validation import require_single_line
from ..settings import Group
from .models import Merchant


def save_section(merchant: Merchant, section: Group, values: dict) -> None:
    """Store one configuration section. A Stripe account already connected to another
    merchant is refused: charges and saved methods would reach that merchant's account."""
    account = values.get("stripe_account_id") if section.key == "payments" else None
    if account and any(m.id != merchant.id for m in merchants_with_account(account)):
        raise DomainError("This Stripe account is connected to another merchant of this "
                                 "portal. Ask support if it is yours.", "stripe_account_id")
    merchant.config = {**(merchant.config or {}), section.key: values}
    if section.key == "payments":
        merchant.stripe_account_id = account or None
    try:
        db.session.flush()
    except IntegrityError as exc:  # two merchants saving the same account at once
        db.session.rollback()
        raise DomainError("This Stripe account is connected to another merchant of this "
                          "portal. Ask support if it is yours.", "stripe_account_id") from exc


def merchants_with_account(account_id: str) -> list[Merchant]:
    """The merchants whose configuration names this Stripe connected account."""
    return list(db.session.scalars(select(Merchant).where(
        Merchant.stripe_account_id == account_id)))


# Domains that keep amounts in the merchant's currency (the catalogue, billing) register a
# check here when the app is built (`create_app`), so tenancy imports none of them.
CURRENCY_IN_USE: list[Callable[[Merchant], bool]] = []


def has_billing_history(merchant: Merchant) -> bool:
    return any(check(merchant) for check in CURRENCY_IN_USE)


def update_general(merchant: Merchant, *, name: str, currency: str, locale: str,
                   timezone: str) -> None:
    """Name, currency, locale, time zone (T-1). The currency is fixed once products, invoices or
    payments exist: amounts are stored in minor units of it and must never change meaning.
    The name goes into every email's headers: never a line break (issue #19-11)."""
    require_single_line(name=name)
    if currency != merchant.currency and has_billing_history(merchant):
        raise DomainError(
            f"The currency stays {merchant.currency}: you already have products, invoices or "
            "payments in it.", "currency")
    merchant.name = name.strip()
    merchant.currency = currency
    merchant.locale = locale
    merchant.timezone = timezone
    db.session.flush()
