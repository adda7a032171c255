"""Imports every domain's tables so Alembic and `db.metadata` see the whole schema."""
from .customers.models import Customer, CustomerEmail, CustomFieldDefinition  # noqa: F401
from .profiles.models import SelfServiceProfile  # noqa: F401
from .tenancy.models import AdminUser, Merchant  # noqa: F401
