"""Customer portal invitations (I-1…I-4): one email per contact, tokens filled per contact,
From the merchant's sender with Reply-To the admin who sends them."""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..core import events
from ..core.domain import DomainError
from ..core.extensions import db
from ..core.tokens import COMMON, check_template
from ..core.validation import require_single_line
from ..tenancy.configuration import PORTAL, merchant_settings
from ..web.request_guards import MAX_ID
from .credentials import issue_token
from .enrolment import entry_link
from .models import Customer

MAX_RECIPIENTS = 500


def portal_enabled(merchant) -> bool:
    return merchant_settings(merchant, PORTAL).enable_customer_portal


def recipients(merchant, ids: list[int]) -> list[Customer]:
    ids = [i for i in ids if 0 < i <= MAX_ID][:MAX_RECIPIENTS]
    if not ids:
        return []
    return list(db.session.scalars(select(Customer).where(Customer.merchant_id == merchant.id,
                                                          Customer.id.in_(ids),
                                                          Customer.archived_at.is_(None))
                                   .options(selectinload(Customer.emails))
                                   .order_by(Customer.last_name, Customer.first_name)))


def send(merchant, sender_email: str, customers: list[Customer], subject: str,
         body: str) -> int:
    """Queue one invitation per contact; returns how many contacts were invited."""
    if not portal_enabled(merchant):
        raise DomainError("The customer portal is switched off: invitations cannot be sent.")
    if not customers:
        raise DomainError("Choose at least one contact.", "to")
    require_single_line(subject=(subject or "").strip())  # a mail header (issue #19-11)
    for field, text in (("subject", subject), ("body", body)):
        if not (text or "").strip():
            raise DomainError("This field is required.", field)
        try:
            check_template(text, COMMON)
        except ValueError as exc:
            raise DomainError(str(exc), field) from exc
    invited = 0
    for customer in customers:
        if not customer.primary_emails:
            continue
        if customer.password_hash:  # already signed up: the link is the sign-in page
            link = entry_link(merchant, "/login")
        else:
            link = entry_link(merchant, f"/credentials/{issue_token(customer, 'invite')}")
        # emailed by the event's subscriber; the link (a raw token) and texts stay transient
        if any(events.record(merchant, "customer.invited", customer_id=customer.id,
                             transient={"link": link, "subject": subject, "body": body,
                                        "reply_to": sender_email})):
            invited += 1
    db.session.flush()
    return invited
