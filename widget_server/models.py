"""Imports every domain's tables so Alembic and `db.metadata` see the whole schema."""
from .billing.models import Invoice, InvoiceLine, Payment, PaymentAllocation  # noqa: F401
from .catalogue.models import Product  # noqa: F401
from .commerce.models import (  # noqa: F401
    Cart,
    CartLine,
    Order,
    OrderAdjustment,
    OrderLine,
    SalesAgent,
)
from .commerce.proposal_models import Proposal, ProposalLine  # noqa: F401
from .core.events import DomainEvent  # noqa: F401
from .customers.models import EmailProof, LoginFailure  # noqa: F401
from .jobs.models import Job  # noqa: F401
from .media.models import MediaAsset  # noqa: F401
from .notifications.models import EmailMessage  # noqa: F401
from .profiles.models import SelfServiceProfile  # noqa: F401
from .support.models import (  # noqa: F401
    ServiceIssue,
    ServiceIssueAttachment,
    ServiceIssueMessage,
)
from .tenancy.api_keys import ApiKey  # noqa: F401
from .tenancy.audit import AuditEntry  # noqa: F401
from .tenancy.counters import Counter  # noqa: F401
from .tenancy.idempotency_keys import IdempotencyKey  # noqa: F401
from .tenancy.models import AdminUser, Merchant  # noqa: F401
from .webhooks.models import WebhookDelivery, WebhookEndpoint  # noqa: F401
