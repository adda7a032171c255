"""Server-side customer sessions: start on login, resolve on every widget request, revoke.

A session belongs to one merchant: resolving it under another merchant's URL finds nothing.
"""
import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, select, update

from ..core.database import utcnow
from ..core.extensions import db
from ..profiles import services as profile_services
from ..tenancy.models import Merchant
from .models import Customer, PortalSession

TOUCH_EVERY = timedelta(minutes=1)  # write last_seen at most this often


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(customer: Customer) -> str:
    """A new session for `customer`; returns the token for the cookie (never stored as is)."""
    token = secrets.token_urlsafe(32)
    db.session.add(PortalSession(token_hash=_hash(token), merchant_id=customer.merchant_id,
                                 customer_id=customer.id))
    db.session.flush()
    return token


# Built once: it runs on every signed-in widget request.
SESSION_WITH_CUSTOMER = (
    select(PortalSession, Customer)
    .join(Customer, Customer.id == PortalSession.customer_id)
    .where(PortalSession.token_hash == bindparam("token_hash"),
           PortalSession.merchant_id == bindparam("merchant_id"),
           Customer.merchant_id == bindparam("merchant_id"),
           Customer.archived_at.is_(None),
           PortalSession.revoked_at.is_(None)))


def resolve(token: str | None, merchant_id: int) -> Customer | None:
    """The signed-in customer for this token at this merchant, or None when the session is
    unknown, revoked, idle too long, too old, or belongs to another merchant. One query."""
    if not token or not isinstance(token, str):
        return None
    row = db.session.execute(SESSION_WITH_CUSTOMER, {"token_hash": _hash(token),
                                                      "merchant_id": merchant_id}).first()
    if row is None:
        return None
    return _alive(*row)


def _with_session(portal):
    """A portal statement (merchant and profile by slug) that also finds the browser's live
    session there and its customer: every signed-in widget request needs all four, and one
    round trip instead of two is a tenth of a page on PostgreSQL (issue #26)."""
    return (portal.add_columns(PortalSession, Customer)
            .outerjoin(PortalSession, and_(PortalSession.token_hash == bindparam("token_hash"),
                                           PortalSession.merchant_id == Merchant.id,
                                           PortalSession.revoked_at.is_(None)))
            .outerjoin(Customer, and_(Customer.id == PortalSession.customer_id,
                                      Customer.merchant_id == Merchant.id,
                                      Customer.archived_at.is_(None))))


PORTAL_AND_SESSION_BY_PROFILE = _with_session(profile_services.PORTAL_BY_PROFILE)
PORTAL_AND_SESSION_BY_DEFAULT = _with_session(profile_services.PORTAL_BY_DEFAULT)


def portal_for(merchant_slug: str, profile_slug: str | None, token: str | None):
    """(merchant, profile, found) of a widget request in one query: `profiles.services.
    portal_for`'s merchant and profile, and the browser's session there with its customer
    (None when there is none). `signed_in(found)` then says who is signed in, as `resolve`
    would: the caller asks only once the portal is known to be open, so a page that answers
    "unavailable" neither signs anyone in nor keeps a session alive."""
    if not token or not isinstance(token, str):
        return (*profile_services.portal_for(merchant_slug, profile_slug), None)
    if not merchant_slug or len(merchant_slug) > 63:
        return None, None, None
    params = {"merchant_slug": merchant_slug, "token_hash": _hash(token)}
    if profile_slug is None:
        row = db.session.execute(PORTAL_AND_SESSION_BY_DEFAULT, params).first()
    else:
        row = db.session.execute(PORTAL_AND_SESSION_BY_PROFILE,
                                 {**params, "profile_slug": profile_slug}).first()
    if row is None:
        return None, None, None
    merchant, profile, portal_session, customer = row
    return merchant, profile, (portal_session, customer) if customer is not None else None


def signed_in(found) -> Customer | None:
    """The customer of a session `portal_for` found, unless it has been idle or open too long
    (its last use written at most once a minute)."""
    return _alive(*found) if found is not None else None


def _alive(portal_session: PortalSession, customer: Customer) -> Customer | None:
    """The customer, unless the session has been idle or open too long; its last use is
    written at most once a minute."""
    now = utcnow()
    cfg = current_app.config
    if (now - portal_session.last_seen_at > timedelta(minutes=cfg["PORTAL_SESSION_IDLE_MINUTES"])
            or now - portal_session.created_at > timedelta(
                minutes=cfg["PORTAL_SESSION_MAX_MINUTES"])):
        return None
    if now - portal_session.last_seen_at > TOUCH_EVERY:
        portal_session.last_seen_at = now
        db.session.flush()
    return customer


def end(token: str | None) -> None:
    if token:
        db.session.execute(update(PortalSession).where(PortalSession.token_hash == _hash(token))
                           .values(revoked_at=utcnow()))
        db.session.flush()


PASSWORD_CHANGED = "password"  # noqa: S105 (a reason, not a secret)


def end_all(customer: Customer, because: str | None = None) -> None:
    """Revoke every session of this customer (password change, reset, admin action);
    `because` (PASSWORD_CHANGED) lets the widget tell a browser signed out this way why."""
    db.session.execute(update(PortalSession).where(PortalSession.customer_id == customer.id,
                                                   PortalSession.revoked_at.is_(None))
                       .values(revoked_at=utcnow(), ended_because=because))
    db.session.flush()


def ended_because(token: str | None, merchant_id: int) -> str | None:
    """Why this token's session was ended (PASSWORD_CHANGED), or None: asked only once
    resolve() found no customer for a token the browser still sends."""
    if not token or not isinstance(token, str):
        return None
    return db.session.scalar(select(PortalSession.ended_because).where(
        PortalSession.token_hash == _hash(token), PortalSession.merchant_id == merchant_id,
        PortalSession.revoked_at.is_not(None)))
