"""Customer credentials (C-1, C-3, C-4, C-7, C-9, C-10): link tokens, password rules, passwords.

Tokens are random, stored hashed, expire, and are consumed only when credentials are set, in
one conditional UPDATE, so a mail scanner opening a link burns nothing and a link used twice at
the same moment works once.
"""
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..core import events
from ..core.database import utcnow
from ..core.domain import DomainError
from ..core.extensions import db
from ..core.i18n import format_list, ngettext
from ..core.i18n import gettext as _
from ..core.passwords import hash_password, verify
from ..tenancy.configuration import SECURITY, merchant_settings
from ..tenancy.models import Merchant
from . import portal_sessions
from .models import TEMP_ISSUED, TEMP_USED, CredentialToken, Customer

LIFETIMES = {"create": timedelta(days=7), "reset": timedelta(hours=1),
             "invite": timedelta(days=14)}
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@+-]{2,149}$")


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
    words = [_at_least(rules.password_min_length)]
    if rules.password_require_letter:
        words.append(_("a letter"))
    if rules.password_require_digit:
        words.append(_("a digit"))
    if rules.password_require_symbol:
        words.append(_("a symbol such as ! or #"))
    return words


def _at_least(length: int) -> str:
    return ngettext("at least %(num)d character", "at least %(num)d characters", length)


def check_password(merchant, password: str, username: str | None = None) -> None:
    rules = merchant_settings(merchant, SECURITY)
    problems = []
    if len(password) < rules.password_min_length:
        problems.append(_at_least(rules.password_min_length))
    if len(password) > 1024:
        raise DomainError(_("Use at most %(num)d characters.", num=1024), "password")
    if rules.password_require_letter and not any(c.isalpha() for c in password):
        problems.append(_("a letter"))
    if rules.password_require_digit and not any(c.isdigit() for c in password):
        problems.append(_("a digit"))
    if rules.password_require_symbol and all(c.isalnum() or c.isspace() for c in password):
        problems.append(_("a symbol"))
    if problems:
        raise DomainError(_("The password needs %(rules)s.", rules=format_list(problems)),
                          "password")
    if username and password.strip().lower() == username.lower():
        raise DomainError(_("The password must not be your username."), "password")


def normalise_username(username: str) -> str:
    value = (username or "").strip().lower()
    if not USERNAME_RE.match(value):
        raise DomainError(_("Use 3 to 150 characters: letters, digits and . _ @ + - "
                            "(starting with a letter or digit)."), "username")
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
        raise DomainError(_("This link has just been used. Please sign in."))


def sign_up_problems(merchant, customer: Customer, username: str | None,
                     password: str | None) -> dict[str | None, str]:
    """Every reason the sign-up would be refused, by field, all at once (C-1, C-9): the page
    shows each next to its field instead of one per submit."""
    problems: dict[str | None, str] = {}
    try:
        username = normalise_username(username or "")
    except DomainError as exc:
        problems["username"] = str(exc)
        username = (username or "").strip()
    else:
        if username_taken(merchant.id, username, customer.id):
            problems["username"] = _("The username “%(username)s” is taken. Please choose "
                                     "another.", username=username)
    try:
        check_password(merchant, password or "", username)
    except DomainError as exc:
        problems["password"] = str(exc)
    return problems


def set_credentials(merchant, token: CredentialToken, customer: Customer, *, username: str,
                    password: str) -> None:
    """Choose username and password through a create or invitation link (C-3, I-3)."""
    if customer.password_hash:
        raise DomainError(_("You have already signed up. Please sign in."))
    problems = sign_up_problems(merchant, customer, username, password)
    if problems:
        raise DomainError.of(problems)
    username = normalise_username(username)
    _consume(token)
    set_password(customer, password)  # the other create/invite links die with this sign-up
    customer.username = username  # after the links' UPDATE: a taken name fails in the try
    try:
        db.session.flush()
    except IntegrityError as exc:  # two sign-ups racing for one username
        db.session.rollback()
        raise DomainError(_("The username “%(username)s” is taken. Please choose another.",
                            username=username), "username") from exc
    portal_sessions.end_all(customer, portal_sessions.PASSWORD_CHANGED)


def revoke_open_links(customer: Customer) -> None:
    """Mark every unused create, reset and invitation link of the customer used (not committed)."""
    db.session.execute(update(CredentialToken).where(
        CredentialToken.customer_id == customer.id, CredentialToken.used_at.is_(None))
        .values(used_at=utcnow()))


def set_password(customer: Customer, password: str, *,
                 temporary_until: datetime | None = None) -> None:
    """The one way a customer's password changes: reset link, create link, the admin's
    temporary password (C-7), the customer's own change (C-10), and whatever comes next (SSO).

    A new password is a "password changed" event: every outstanding create, reset and invitation
    link of the customer dies with the old password (C-4, issue #18), in the caller's transaction,
    so a link cannot outlive the password it was sent to replace. A temporary password works once,
    until `temporary_until`; any other password ends a temporary one. The caller checks the rules,
    commits, then ends the sessions (`portal_sessions.end_all`). Records `credentials.set`."""
    revoke_open_links(customer)
    customer.password_hash = hash_password(password)
    customer.temp_password_state = TEMP_ISSUED if temporary_until else None
    customer.temp_expires_at = temporary_until
    events.record(db.session.get(Merchant, customer.merchant_id), "credentials.set",
                  customer_id=customer.id, temporary=bool(temporary_until))


def reset_password(merchant, token: CredentialToken, customer: Customer, password: str) -> None:
    """A new password through a reset link (C-4); every other session ends."""
    check_password(merchant, password, customer.username)
    _consume(token)
    set_password(customer, password)
    db.session.flush()
    portal_sessions.end_all(customer, portal_sessions.PASSWORD_CHANGED)


def change_password(merchant, customer: Customer, password: str,
                    current: str | None = None) -> None:
    """The customer's own new password (C-10), or the one C-7 forces after a temporary password
    (then no current password is asked). Checks every rule and reports every problem at once;
    the new password ends every session of the customer, this one too."""
    problems = {}
    if customer.temp_password_state != TEMP_USED and not verify(customer.password_hash,
                                                                  current or "")[0]:
        problems["current"] = _("Your current password is not right.")
    try:
        check_password(merchant, password, customer.username)
    except DomainError as exc:
        problems["password"] = str(exc)
    if problems:
        raise DomainError.of(problems)
    set_password(customer, password)
    db.session.flush()
    portal_sessions.end_all(customer, portal_sessions.PASSWORD_CHANGED)
