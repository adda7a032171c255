"""Server-side customer sessions: start on login, resolve on every widget request, revoke.

A session belongs to one merchant: resolving it under another merchant's URL finds nothing.
"""
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import and_, bindparam, select, update

from ..core.database import utcnow
from ..core.extensions import db
from ..core.reads import Read, attach, entity_columns
from ..profiles.models import SelfServiceProfile
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


def _portal_read(which_profile) -> Read:
    """Every widget request's one statement: the merchant named by the URL, its profile
    (`which_profile`), and the browser's live session there with its customer, all outer-joined
    (a visitor has no session; an unknown profile still finds its merchant). One round trip
    instead of two, and read through the driver: the ORM's loading of four entities was a fifth
    of a page's time (issue #26)."""
    return Read(
        select(*entity_columns(Merchant), *entity_columns(SelfServiceProfile),
               PortalSession.id, PortalSession.created_at, PortalSession.last_seen_at,
               *entity_columns(Customer))
        .select_from(Merchant)
        .outerjoin(SelfServiceProfile, and_(SelfServiceProfile.merchant_id == Merchant.id,
                                            which_profile))
        .outerjoin(PortalSession, and_(PortalSession.token_hash == bindparam("token_hash"),
                                       PortalSession.merchant_id == Merchant.id,
                                       PortalSession.revoked_at.is_(None)))
        .outerjoin(Customer, and_(Customer.id == PortalSession.customer_id,
                                  Customer.merchant_id == Merchant.id,
                                  Customer.archived_at.is_(None)))
        .where(Merchant.slug == bindparam("merchant_slug")))


PORTAL_BY_PROFILE = _portal_read(SelfServiceProfile.slug == bindparam("profile_slug"))
PORTAL_BY_DEFAULT = _portal_read(SelfServiceProfile.is_default.is_(True))
_MERCHANT, _PROFILE = len(entity_columns(Merchant)), len(entity_columns(SelfServiceProfile))
_SESSION = _MERCHANT + _PROFILE  # where the session's three columns start


class _Session(NamedTuple):
    id: int
    created_at: datetime
    last_seen_at: datetime


def portal_for(merchant_slug: str, profile_slug: str | None, token: str | None):
    """(merchant, profile, found) of a widget request in one statement: the merchant and the
    named profile (the default one when `profile_slug` is None), and the browser's session
    there with its customer (None when there is none). (None, None, None) for an unknown
    merchant; (merchant, None, None) for an unknown profile. `signed_in(found)` then says who
    is signed in (not after idling or too long): the caller asks only once the portal is open,
    so a page that answers "unavailable" neither signs anyone in nor keeps a session alive."""
    if not merchant_slug or len(merchant_slug) > 63:
        return None, None, None
    token_hash = _hash(token) if token and isinstance(token, str) else None
    if profile_slug is None:
        row = PORTAL_BY_DEFAULT.first(merchant_slug=merchant_slug, token_hash=token_hash)
    else:
        row = PORTAL_BY_PROFILE.first(merchant_slug=merchant_slug, token_hash=token_hash,
                                      profile_slug=profile_slug)
    if row is None:
        return None, None, None
    merchant = attach(Merchant, row[:_MERCHANT])
    profile = attach(SelfServiceProfile, row[_MERCHANT:_SESSION])
    customer = attach(Customer, row[_SESSION + 3:])
    if profile is None or customer is None:
        return merchant, profile, None
    return merchant, profile, (_Session(*row[_SESSION:_SESSION + 3]), customer)


def signed_in(found) -> Customer | None:
    """The customer of a session `portal_for` found, unless it has been idle or open too long
    (its last use written at most once a minute)."""
    return _alive(*found) if found is not None else None


def _alive(portal_session, customer: Customer) -> Customer | None:
    """The customer, unless the session has been idle or open too long; its last use is
    written at most once a minute."""
    now = utcnow()
    cfg = current_app.config
    if (now - portal_session.last_seen_at > timedelta(minutes=cfg["PORTAL_SESSION_IDLE_MINUTES"])
            or now - portal_session.created_at > timedelta(
                minutes=cfg["PORTAL_SESSION_MAX_MINUTES"])):
        return None
    if now - portal_session.last_seen_at > TOUCH_EVERY:
        db.session.execute(update(PortalSession).where(PortalSession.id == portal_session.id)
                           .values(last_seen_at=now))
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
    `portal_for` found no customer for a token the browser still sends."""
    if not token or not isinstance(token, str):
        return None
    return db.session.scalar(select(PortalSession.ended_because).where(
        PortalSession.token_hash == _hash(token), PortalSession.merchant_id == merchant_id,
        PortalSession.revoked_at.is_not(None)))
