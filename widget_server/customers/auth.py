"""Customer sign-in by username or email + password (C-1), within one merchant."""
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..core.database import UTCDateTime, utcnow
from ..core.extensions import db
from ..core.passwords import verify
from ..core.unit_of_work import end_read_only_transaction
from ..tenancy.configuration import SECURITY, merchant_settings
from . import portal_sessions
from .languages import remember_language
from .models import TEMP_ISSUED, TEMP_USED, Customer, CustomerEmail, LoginFailure

MAX_CANDIDATES = 5  # customers sharing one address (a bookkeeper for several accounts, say)


def candidates(merchant_id: int, login: str, *, with_password: bool = True,
               emails_only: bool = False) -> list[Customer]:
    """Customers of this merchant whose username or Primary Email address is `login`."""
    login = (login or "").strip().lower()
    if not login:
        return []
    matches = select(CustomerEmail.customer_id).where(CustomerEmail.merchant_id == merchant_id,
                                                      CustomerEmail.address == login)
    if not emails_only:
        matches = matches.union(select(Customer.id).where(
            Customer.merchant_id == merchant_id, func.lower(Customer.username) == login))
    stmt = select(Customer).where(Customer.merchant_id == merchant_id, Customer.id.in_(matches),
                                  Customer.archived_at.is_(None))  # archived: no portal
    if with_password:
        stmt = stmt.where(Customer.password_hash.is_not(None))
    return list(db.session.scalars(stmt.order_by(Customer.id).limit(MAX_CANDIDATES)))


def password_matches(customer: Customer, password: str) -> bool:
    return verify(customer.password_hash, password)[0]


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: a customer, or the reason there is none."""

    customer: Customer | None
    problem: str | None = None  # bad | locked | temp_expired | temp_used


def authenticate(merchant, login: str, password: str) -> SignIn:
    """Check credentials (C-1) with lockout (C-8) and temporary passwords (C-7).

    An unknown login costs the same time as a wrong password (a dummy hash is verified), and
    its failures are counted and locked the same way (`LoginFailure`), so the answer at every
    count never tells whether the account exists (issue #19-9). Each failure counts against an
    unlocked account; at the merchant's threshold it locks for the merchant's lockout minutes
    (or until an admin unlocks it). A temporary password works once, before it expires.

    No transaction is open while argon2 runs (issue #19): the lookup only reads, so its
    transaction ends before the first hash (`end_read_only_transaction`), and every password is
    verified before the first write (the reset or the failed-attempt UPDATE). The customers are
    read again after the hash (expired by the rollback), so the lock is checked as it stands
    then. A sign-in that finds no free hashing slot raises `HashingBusy` (503) and counts nothing.
    """
    found = candidates(merchant.id, login)
    stored = [customer.password_hash for customer in found]
    security = merchant_settings(merchant, SECURITY)
    end_read_only_transaction()
    now = utcnow()
    if not found:
        verify(None, password)
        return SignIn(None, _count_unknown(merchant.id, login, security, now))
    for customer, stored_hash in zip(found, stored, strict=True):
        ok, new_hash = verify(stored_hash, password)
        if not ok:
            continue
        if is_locked(customer.locked_at, security.lockout_minutes, now):
            return SignIn(None, "locked")
        if customer.temp_password_state == TEMP_USED:
            return SignIn(None, "temp_used")
        if customer.temp_password_state == TEMP_ISSUED:
            if customer.temp_expires_at is None or customer.temp_expires_at < now:
                return SignIn(None, "temp_expired")
            customer.temp_password_state = TEMP_USED  # one sign-in, then a new password
        customer.failed_logins, customer.locked_at = 0, None  # an expired lock ends here
        if new_hash:
            customer.password_hash = new_hash
        db.session.flush()
        return SignIn(customer)
    locked = False
    for customer in found:
        _count_failure(Customer, Customer.id == customer.id, security, now)
        db.session.refresh(customer, ["failed_logins", "locked_at"])
        locked = locked or is_locked(customer.locked_at, security.lockout_minutes, now)
    db.session.flush()
    return SignIn(None, "locked" if locked else "bad")


def is_locked(locked_at: datetime | None, lockout_minutes: int, now: datetime) -> bool:
    """Locked now: since `locked_at`, for `lockout_minutes` (0: until an admin unlocks)."""
    if locked_at is None:
        return False
    return lockout_minutes == 0 or locked_at > now - timedelta(minutes=lockout_minutes)


def locked_until(customer: Customer, merchant, now: datetime | None = None):
    """None when the customer is not locked now; else the moment the lock ends, or True for a
    lock that lasts until an admin unlocks it (the Portal panel, C-8)."""
    minutes = merchant_settings(merchant, SECURITY).lockout_minutes
    if not is_locked(customer.locked_at, minutes, now or utcnow()):
        return None
    return True if minutes == 0 else customer.locked_at + timedelta(minutes=minutes)


def _count_failure(model, which, security, now: datetime) -> None:
    """One conditional UPDATE of `model`'s failed_logins / locked_at (a customer, or an unknown
    login's `LoginFailure`: the same rule for both). An attempt while locked is not counted
    (the panel says how many failures locked it), two racing failures cannot count past the
    threshold, and the first failure after a lock has run out starts a new count."""
    minutes = security.lockout_minutes
    countable = model.locked_at.is_(None)
    if minutes:
        countable = or_(countable, model.locked_at <= now - timedelta(minutes=minutes))
    count = case((model.locked_at.is_not(None), 1), else_=model.failed_logins + 1)
    db.session.execute(
        update(model).where(which, countable)
        .values(failed_logins=count,
                locked_at=case((count >= security.lockout_threshold,
                                literal(now, UTCDateTime)), else_=None))
        .execution_options(synchronize_session=False))


def _login_digest(merchant_id: int, login: str) -> str:
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    message = f"{merchant_id}:{(login or '').strip().lower()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _count_unknown(merchant_id: int, login: str, security, now: datetime) -> str:
    """Count a failure under a login that names no customer, as if it did: "locked" at the
    same count, for the same minutes, as a customer's account."""
    digest = _login_digest(merchant_id, login)
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(LoginFailure).values(merchant_id=merchant_id, login_digest=digest,
                                                   failed_logins=0)
                       .on_conflict_do_nothing(index_elements=["merchant_id", "login_digest"]))
    which = (LoginFailure.merchant_id == merchant_id) & (LoginFailure.login_digest == digest)
    _count_failure(LoginFailure, which, security, now)
    locked_at = db.session.scalar(select(LoginFailure.locked_at).where(which))
    return "locked" if is_locked(locked_at, security.lockout_minutes, now) else "bad"


def sign_in(customer: Customer, previous_session: str | None) -> str:
    """The one way a customer is signed in, after a password today and SSO next: the browser's
    previous portal session ends and a new server-side one starts (revocable, C-12); returns
    its token for the cookie. The caller starts a fresh cookie session too. The customer's
    language is recorded for their emails (`languages.remember_language`)."""
    portal_sessions.end(previous_session)
    remember_language(customer)
    return portal_sessions.start(customer)
