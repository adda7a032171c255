"""Merchant configuration services (T-1, T-3)."""
from ..extensions import db
from ..settings import Group
from .models import Merchant


def save_section(merchant: Merchant, section: Group, values: dict) -> None:
    merchant.config = {**(merchant.config or {}), section.key: values}
    db.session.commit()


def update_general(merchant: Merchant, *, name: str, currency: str, locale: str,
                   timezone: str) -> None:
    merchant.name = name.strip()
    merchant.currency = currency
    merchant.locale = locale
    merchant.timezone = timezone
    db.session.commit()
