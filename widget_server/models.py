"""Imports every domain's tables so Alembic and `db.metadata` see the whole schema."""
from .tenancy.models import AdminUser, Merchant  # noqa: F401
