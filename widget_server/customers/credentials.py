"""Customer credentials (C-1, C-3, C-4, C-9): link tokens, password rules, setting credentials.

Tokens are random, stored hashed, expire, and are consumed only when credentials are set, in
one conditional UPDATE, so a mail scanner opening a link burns nothing and a link used twice at
the same moment works once.
"""
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..database import utcnow
from ..extensions import db
from ..passwords import hash_password
from ..tenancy.configuration import SECURITY, merchant_settings
from . import portal_sessions
from .models import CredentialToken, Customer

LIFETIMES = {"create": timedelta(days=7), "reset": timedelta(hours=1),
             "invite": timedelta(days=14)}
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@+-]{2,149}$")


class CredentialError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(customer: Customer, purpose: str) -> str:
    """A new link token for `customer` (in the caller's transaction); returns the raw token."""
    raw = secrets.token_urlsafe(32)
    db.session.add(CredentialToken(token_hash=_hash(raw), merchant_id=customer.merchant_id,
                                   customer_id=customer.id, purpose=purpose,
                                   expires_at=utcnow() + LIFETIMES[purpose]))
    return raw


@dataclass(frozen=True)
class TokenState:
    token: CredentialToken | None
    customer: Customer | None
    state: str  # valid | used | expired | unknown


def look_up(merchant_id: int, raw: str | None, purposes: tuple[str, ...]) -> TokenState:
    """What a link is: valid, already used, expired, or unknown (also: another merchant's)."""
    if not raw or len(raw) > 100:
        return TokenState(None, None, "unknown")
    row = db.session.execute(
        select(CredentialToken, Customer).join(Customer,
                                               Customer.id == CredentialToken.customer_id)
        .where(CredentialToken.token_hash == _hash(raw),
               CredentialToken.merchant_id == merchant_id,
               Customer.merchant_id == merchant_id, Customer.archived_at.is_(None),
               CredentialToken.purpose.in_(purposes))).first()
    if row is None:
        return TokenState(None, None, "unknown")
    token, customer = row
    if token.used_at is not None:
        return TokenState(token, customer, "used")
    if token.expires_at < utcnow():
        return TokenState(token, customer, "expired")
    return TokenState(token, customer, "valid")


def password_rules(merchant) -> list[str]:
    """The merchant's password rules, in words (shown on every form that sets one, C-9)."""
    rules = merchant_settings(merchant, SECURITY)
    words = [f"at least {rules.password_min_length} characters"]
    if rules.password_require_letter:
        words.append("a letter")
    if rules.password_require_digit:
        words.append("a digit")
    if rules.password_require_symbol:
        words.append("a symbol such as ! or #")
    return words


def check_password(merchant, password: str, username: str | None = None) -> None:
    rules = merchant_settings(merchant, SECURITY)
    problems = []
    if len(password) < rules.password_min_length:
        problems.append(f"at least {rules.password_min_length} characters")
    if len(password) > 1024:
        raise CredentialError("Use at most 1024 characters.", "password")
    if rules.password_require_letter and not any(c.isalpha() for c in password):
        problems.append("a letter")
    if rules.password_require_digit and not any(c.isdigit() for c in password):
        problems.append("a digit")
    if rules.password_require_symbol and all(c.isalnum() or c.isspace() for c in password):
        problems.append("a symbol")
    if problems:
        raise CredentialError("The password needs " + ", ".join(problems) + ".", "password")
    if username and password.strip().lower() == username.lower():
        raise CredentialError("The password must not be your username.", "password")


def normalise_username(username: str) -> str:
    value = (username or "").strip().lower()
    if not USERNAME_RE.match(value):
        raise CredentialError("Use 3 to 150 characters: letters, digits and . _ @ + - "
                              "(starting with a letter or digit).", "username")
    return value


def username_taken(merchant_id: int, username: str, exclude_customer_id: int | None) -> bool:
    stmt = select(Customer.id).where(Customer.merchant_id == merchant_id,
                                     func.lower(Customer.username) == username)
    if exclude_customer_id:
        stmt = stmt.where(Customer.id != exclude_customer_id)
    return db.session.scalar(stmt) is not None


def _consume(token: CredentialToken) -> None:
    done = db.session.execute(update(CredentialToken)
                              .where(CredentialToken.id == token.id,
                                     CredentialToken.used_at.is_(None))
                              .values(used_at=utcnow()))
    if done.rowcount != 1:
        raise CredentialError("This link has just been used. Please sign in.")


def set_credentials(merchant, token: CredentialToken, customer: Customer, *, username: str,
                    password: str) -> None:
    """Choose username and password through a create or invitation link (C-3, I-3)."""
    if customer.password_hash:
        raise CredentialError("You have already signed up. Please sign in.")
    username = normalise_username(username)
    if username_taken(merchant.id, username, customer.id):
        raise CredentialError(f"The username “{username}” is taken. Please choose another.",
                              "username")
    check_password(merchant, password, username)
    _consume(token)
    _revoke_open_links(customer)  # the other create/invite links die with this sign-up
    customer.username, customer.password_hash = username, hash_password(password)
    customer.temp_password_state = customer.temp_expires_at = None
    try:
        db.session.commit()
    except IntegrityError as exc:  # two sign-ups racing for one username
        db.session.rollback()
        raise CredentialError(f"The username “{username}” is taken. Please choose another.",
                              "username") from exc
    portal_sessions.end_all(customer)


def _revoke_open_links(customer: Customer) -> None:
    db.session.execute(update(CredentialToken).where(
        CredentialToken.customer_id == customer.id, CredentialToken.used_at.is_(None))
        .values(used_at=utcnow()))


def reset_password(merchant, token: CredentialToken, customer: Customer, password: str) -> None:
    """A new password through a reset link (C-4); every other session ends."""
    check_password(merchant, password, customer.username)
    _consume(token)
    customer.password_hash = hash_password(password)
    customer.temp_password_state = customer.temp_expires_at = None
    _revoke_open_links(customer)  # the other open links of this customer are worthless now
    db.session.commit()
    portal_sessions.end_all(customer)
