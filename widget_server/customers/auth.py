"""Customer sign-in by username or email + password (C-1), within one merchant."""
from dataclasses import dataclass

from sqlalchemy import case, func, literal, select, update

from ..core.database import UTCDateTime, utcnow
from ..core.extensions import db
from ..core.passwords import verify
from ..core.unit_of_work import end_read_only_transaction
from ..tenancy.configuration import SECURITY, merchant_settings
from . import portal_sessions
from .models import TEMP_ISSUED, TEMP_USED, Customer, CustomerEmail

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

    An unknown login costs the same time as a wrong password (a dummy hash is verified). Each
    failure counts against an unlocked account; at the merchant's threshold it locks until an admin
    unlocks it. A temporary password works once, before it expires.

    No transaction is open while argon2 runs (issue #19): the lookup only reads, so its
    transaction ends before the first hash (`end_read_only_transaction`), and every password is
    verified before the first write (the reset or the failed-attempt UPDATE). The customers are
    read again after the hash (expired by the rollback), so the lock is checked as it stands
    then. A sign-in that finds no free hashing slot raises `HashingBusy` (503) and counts nothing.
    """
    found = candidates(merchant.id, login)
    stored = [customer.password_hash for customer in found]
    end_read_only_transaction()
    if not found:
        verify(None, password)
        return SignIn(None, "bad")
    now = utcnow()
    for customer, stored_hash in zip(found, stored, strict=True):
        ok, new_hash = verify(stored_hash, password)
        if not ok:
            continue
        if customer.locked_at is not None:
            return SignIn(None, "locked")
        if customer.temp_password_state == TEMP_USED:
            return SignIn(None, "temp_used")
        if customer.temp_password_state == TEMP_ISSUED:
            if customer.temp_expires_at is None or customer.temp_expires_at < now:
                return SignIn(None, "temp_expired")
            customer.temp_password_state = TEMP_USED  # one sign-in, then a new password
        customer.failed_logins = 0
        if new_hash:
            customer.password_hash = new_hash
        db.session.flush()
        return SignIn(customer)
    threshold = merchant_settings(merchant, SECURITY).lockout_threshold
    locked = False
    for customer in found:
        # One conditional UPDATE: an attempt on a locked account is not counted (the panel says
        # how many failures locked it), and two racing failures cannot count past the threshold.
        db.session.execute(
            update(Customer).where(Customer.id == customer.id, Customer.locked_at.is_(None))
            .values(failed_logins=Customer.failed_logins + 1,
                    locked_at=case((Customer.failed_logins + 1 >= threshold,
                                    literal(now, UTCDateTime)), else_=None))
            .execution_options(synchronize_session=False))
        db.session.refresh(customer, ["failed_logins", "locked_at"])
        locked = locked or customer.locked_at is not None
    db.session.flush()
    return SignIn(None, "locked" if locked else "bad")


def sign_in(customer: Customer, previous_session: str | None) -> str:
    """The one way a customer is signed in, after a password today and SSO next: the browser's
    previous portal session ends and a new server-side one starts (revocable, C-12); returns
    its token for the cookie. The caller starts a fresh cookie session too."""
    portal_sessions.end(previous_session)
    return portal_sessions.start(customer)
