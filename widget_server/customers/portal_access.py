"""The admin's Portal panel actions on one customer (C-6, C-7, C-8)."""
import secrets
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from ..core import events
from ..core.database import utcnow
from ..core.domain import DomainError
from ..core.extensions import db
from . import enrolment, portal_sessions
from .credentials import (
    normalise_username,
    revoke_open_links,
    set_password,
    username_taken,
)
from .models import Customer

TEMP_PASSWORD_LIFETIME = timedelta(hours=24)


def state(customer: Customer) -> str:
    """no_username | no_password | active (what the panel offers depends on it)."""
    if not customer.username:
        return "no_username"
    return "active" if customer.password_hash else "no_password"


def lock_note(merchant, customer: Customer) -> str | None:
    """How the Portal panel describes a lock in force (C-8), None when there is none: an
    expired temporary lock is no lock (issue #19-9)."""
    from zoneinfo import ZoneInfo

    from .auth import locked_until

    until = locked_until(customer, merchant)
    if until is None:
        return None
    if until is True:
        return "until an admin unlocks it"
    local = until.astimezone(ZoneInfo(merchant.timezone))
    return f"until {local:%Y-%m-%d %H:%M} ({merchant.timezone})"


def portal_on(merchant) -> bool:
    """The panel's emails carry portal links: with the portal switched off (the merchant's
    Enable Customer Portal) they would lead to "portal unavailable", so none is offered."""
    return enrolment.portal_on(merchant)


def send_create_email(merchant, customer: Customer) -> bool:
    sent = enrolment.send_create(merchant, customer)
    db.session.flush()
    return sent


def send_reset_email(merchant, customer: Customer) -> bool:
    sent = enrolment.send_reset(merchant, customer)
    db.session.flush()
    return sent


def update_username(merchant, customer: Customer, username: str) -> None:
    username = normalise_username(username)
    if username_taken(merchant.id, username, customer.id):
        raise DomainError(f"The username “{username}” is taken.", "username")
    customer.username = username
    try:
        db.session.flush()
    except IntegrityError as exc:  # another admin took it a moment ago
        db.session.rollback()
        raise DomainError(f"The username “{username}” is taken.", "username") from exc


def delete_username(customer: Customer) -> None:
    """Back to the create state (the billing contact changed, say): no username, no password,
    no open links, no sessions."""
    customer.username = None
    customer.password_hash = None
    customer.failed_logins, customer.locked_at = 0, None
    customer.temp_password_state = customer.temp_expires_at = None
    revoke_open_links(customer)
    db.session.flush()
    portal_sessions.end_all(customer)


def unlock(customer: Customer) -> None:
    customer.failed_logins, customer.locked_at = 0, None
    db.session.flush()


def send_temporary_password(merchant, customer: Customer) -> bool:
    """Replace the password with a temporary one for a single sign-in, and email it."""
    if not enrolment.portal_on(merchant):
        return False
    temporary = secrets.token_urlsafe(9)
    # Through the one setter: the customer's open create/reset links die with the old password.
    set_password(customer, temporary, temporary_until=utcnow() + TEMP_PASSWORD_LIFETIME)
    customer.failed_logins, customer.locked_at = 0, None
    # emailed by the event's subscriber; the password is transient, never stored in the event
    sent = any(events.record(merchant, "credentials.temporary_password",
                             customer_id=customer.id, transient={"password": temporary}))
    if not sent:
        db.session.rollback()  # never leave a password nobody was told
        return False
    db.session.flush()
    portal_sessions.end_all(customer, portal_sessions.PASSWORD_CHANGED)
    return True

