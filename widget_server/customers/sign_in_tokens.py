"""Single sign-on into the portal (SPEC E-8, issue #25 item 6): the merchant's server asks for a
token for one of its customers; the widget exchanges it, once and within five minutes, for an
ordinary portal session (`customers.auth.sign_in`, the same as after a password)."""
import logging
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, update

from ..core.database import utcnow
from ..core.domain import DomainError
from ..core.extensions import db
from ..jobs.periodic import daily
from ..jobs.queue import handler
from .models import Customer, SignInToken
from .portal_sessions import _hash

LIFETIME = timedelta(minutes=5)
KEPT = timedelta(days=1)  # spent or not, a token's row is forgotten a day after it expired
PURGE_JOB = "sign_in_token_purge"
log = logging.getLogger(__name__)


def check_return_url(url: str | None, allowed_origins: list[str]) -> str:
    """An https URL, or one on the merchant's allowed embed origins (http on localhost in
    development is configured there); nothing else may be handed back to a browser."""
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if (len(url) > 500 or not parts.netloc or any(ch.isspace() for ch in url)
            or (parts.scheme != "https" and origin not in {o.lower() for o in allowed_origins})):
        raise DomainError("Give an https URL or one on your allowed embed origins.",
                          "return_url", status=422)
    return url


def issue(customer: Customer, return_url: str = "") -> tuple[SignInToken, str]:
    """A new token for `customer` (returned once, stored as a hash); the customer's older
    unused tokens are cancelled: only the newest link works."""
    now = utcnow()
    db.session.execute(update(SignInToken).where(
        SignInToken.customer_id == customer.id, SignInToken.merchant_id == customer.merchant_id,
        SignInToken.used_at.is_(None), SignInToken.cancelled_at.is_(None))
        .values(cancelled_at=now))
    token = "pst_" + secrets.token_urlsafe(32)
    row = SignInToken(token_hash=_hash(token), merchant_id=customer.merchant_id,
                      customer_id=customer.id, return_url=return_url, created_at=now,
                      expires_at=now + LIFETIME)
    db.session.add(row)
    db.session.flush()
    return row, token


def consume(token: str | None, merchant_id: int) -> Customer | None:
    """The customer this token signs in at this merchant, marking it used in the same single
    UPDATE (two browsers racing with one token: one wins). None for a used, expired, cancelled,
    unknown or other merchant's token, alike."""
    if not token or not isinstance(token, str) or len(token) > 200:
        return None
    now = utcnow()
    customer_id = db.session.execute(
        update(SignInToken).where(
            SignInToken.token_hash == _hash(token), SignInToken.merchant_id == merchant_id,
            SignInToken.used_at.is_(None), SignInToken.cancelled_at.is_(None),
            SignInToken.expires_at > now)
        .values(used_at=now).returning(SignInToken.customer_id)).scalar()
    if customer_id is None:
        return None
    customer = db.session.get(Customer, customer_id)
    if customer is None or customer.merchant_id != merchant_id or customer.archived_at is not None:
        return None
    return customer


def purge(now: datetime | None = None) -> int:
    """Forget tokens expired over a day ago; how many. The job commits."""
    gone = db.session.execute(delete(SignInToken).where(
        SignInToken.expires_at < (now or utcnow()) - KEPT))
    return gone.rowcount or 0


@handler(PURGE_JOB)
def purge_job(job) -> None:
    log.info("sign-in token purge: %s token(s) forgotten", purge())


daily(PURGE_JOB)
