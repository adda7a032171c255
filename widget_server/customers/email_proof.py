"""Proving a guest's email address with a six-digit code, then finding or creating the customer
(issue #22 slice c: guest checkout).

`send_code` stores a proof (an HMAC of the code, never the code) and emails the code (Guest
Checkout Code, in the request's language); `verify` checks a code typed back, at most
`MAX_TRIES` times per proof, once; `customer_for_proven_email` attaches the proven address to
the merchant's customer who has it as a Primary Email, or creates one.

Nothing here tells whether an address belongs to a customer: a code is sent, throttled and
checked the same for any address. A proven address grants no access to an existing customer's
account (no portal session, no saved methods): it only lets orders be attached to them.

The code travels only as the event's transient value and the email's secret (masked in the
stored message once sent); neither the proof row, the `domain_event` payload nor a log line
holds it.
"""
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, has_request_context
from sqlalchemy import func, select, update

from ..core import events, validation
from ..core.database import utcnow
from ..core.domain import DomainError
from ..core.extensions import db
from ..core.i18n import current_language, language_of, ngettext
from ..core.i18n import gettext as _
from ..core.unit_of_work import WROTE
from .models import Customer, CustomerEmail, EmailProof
from .services import save_customer

CODE_DIGITS = 6
CODE_MINUTES = 10  # a code works this long after it is sent
MAX_TRIES = 5  # wrong codes a proof takes before it is spent
PER_ADDRESS, ADDRESS_WINDOW = 3, timedelta(minutes=15)  # codes sent to one address
PER_CLIENT, CLIENT_WINDOW = 10, timedelta(hours=1)  # codes asked for by one client key
PROVEN_FOR = timedelta(hours=1)  # how long after its use a proof still stands (`proven`)

Proof = EmailProof


@dataclass(frozen=True)
class ProvenEmail:
    """An address proven, by the code of proof `proof_id`, for merchant `merchant_id`."""
    merchant_id: int
    email: str
    proof_id: int


class TooManyCodes(DomainError):
    """A throttled request for a code: `retry_after_minutes` is how long to wait (a page can
    send it as `Retry-After`, in seconds)."""

    def __init__(self, message: str, field: str | None, retry_after_minutes: int):
        super().__init__(message, field, code="throttled", status=429)
        self.retry_after_minutes = retry_after_minutes


def _digest(kind: str, merchant_id: int, *parts: str) -> str:
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    message = ":".join((kind, str(merchant_id), *parts)).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _code_hash(merchant_id: int, email: str, code: str) -> str:
    return _digest("email-proof", merchant_id, email, code)


def normalised_email(value: str) -> str:
    """The address as proofs and Primary Emails keep it (lower-case), or a DomainError."""
    try:
        return validation.email_address(value or "").lower()
    except ValueError as exc:
        raise DomainError(str(exc), "email") from exc


def _wait_minutes(oldest: datetime, window: timedelta, now: datetime) -> int:
    return max(1, math.ceil((oldest + window - now).total_seconds() / 60))


def _throttle(merchant, email: str, client_digest: str, now: datetime) -> None:
    """At most PER_ADDRESS codes to an address per ADDRESS_WINDOW and PER_CLIENT per client
    key per CLIENT_WINDOW, within the merchant; the same answer for any address."""
    for column, value, limit, window, field in (
            (EmailProof.email, email, PER_ADDRESS, ADDRESS_WINDOW, "email"),
            (EmailProof.client_digest, client_digest, PER_CLIENT, CLIENT_WINDOW, None)):
        within = (EmailProof.merchant_id == merchant.id, column == value,
                  EmailProof.created_at > now - window)
        count = db.session.scalar(select(func.count(EmailProof.id)).where(*within))
        if count >= limit:
            # room for one more when the newest `limit`-th code leaves the window
            oldest = db.session.scalar(select(EmailProof.created_at).where(*within)
                                       .order_by(EmailProof.created_at.desc())
                                       .offset(limit - 1).limit(1))
            minutes = _wait_minutes(oldest, window, now)
            if field == "email":
                message = ngettext(
                    "Too many codes were sent to this address. Please wait %(num)d minute "
                    "before asking for another.",
                    "Too many codes were sent to this address. Please wait %(num)d minutes "
                    "before asking for another.", minutes)
            else:
                message = ngettext(
                    "Too many codes were asked for from here. Please wait %(num)d minute "
                    "before asking for another.",
                    "Too many codes were asked for from here. Please wait %(num)d minutes "
                    "before asking for another.", minutes)
            raise TooManyCodes(message, field, minutes)


def _language(merchant) -> str:
    """The visitor's language: the request's (the merchant's enabled languages, Accept-Language),
    else the merchant's own."""
    return current_language() if has_request_context() else language_of(merchant.locale)


def send_code(merchant, email: str, client_key: str) -> Proof:
    """Store a proof for `email` and email its six-digit code, in the caller's transaction.
    `client_key` (the visitor's IP or widget session key) is throttled, never stored in clear.
    Raises DomainError (field "email") for an invalid address, TooManyCodes when throttled."""
    email = normalised_email(email)
    client_digest = _digest("client", merchant.id, client_key or "")
    now = utcnow()
    _throttle(merchant, email, client_digest, now)
    # an earlier code to this address stops working: only the newest one is asked for
    db.session.execute(
        update(EmailProof)
        .where(EmailProof.merchant_id == merchant.id, EmailProof.email == email,
               EmailProof.used_at.is_(None), EmailProof.expires_at > now)
        .values(expires_at=now)
        .execution_options(synchronize_session=False))
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    proof = EmailProof(merchant_id=merchant.id, email=email,
                       code_hash=_code_hash(merchant.id, email, code),
                       client_digest=client_digest, attempts=0, created_at=now,
                       expires_at=now + timedelta(minutes=CODE_MINUTES))
    db.session.add(proof)
    db.session.flush()
    events.record(merchant, "checkout.code_requested", proof_id=proof.id,
                  transient={"code": code, "language": _language(merchant),
                             "valid_minutes": CODE_MINUTES})
    return proof


def _find(merchant, proof_id_or_email: int | str) -> EmailProof | None:
    query = select(EmailProof).where(EmailProof.merchant_id == merchant.id)
    if isinstance(proof_id_or_email, int) and not isinstance(proof_id_or_email, bool):
        return db.session.scalar(query.where(EmailProof.id == proof_id_or_email))
    try:
        email = validation.email_address(str(proof_id_or_email or "")).lower()
    except ValueError:
        return None
    return db.session.scalar(query.where(EmailProof.email == email)
                             .order_by(EmailProof.id.desc()).limit(1))


def _count_wrong_try(proof: EmailProof) -> int:
    """Count a wrong code; returns the proof's tries so far. The count must stand whatever the
    page does with its unit of work (a refusal is rolled back), so it is written in a
    transaction of its own; only when the request has written already (SQLite would then wait
    on its own lock) is it written in the request's, kept when the request commits."""
    which = (EmailProof.id == proof.id) & (EmailProof.merchant_id == proof.merchant_id)
    statement = update(EmailProof).where(which).values(attempts=EmailProof.attempts + 1)
    session = db.session()
    if session.new or session.dirty or session.deleted or session.info.get(WROTE):
        session.execute(statement.execution_options(synchronize_session=False))
        attempts = session.scalar(select(EmailProof.attempts).where(which))
    else:
        with db.engine.begin() as conn:
            conn.execute(statement)
            attempts = conn.scalar(select(EmailProof.attempts).where(which))
    session.expire(proof, ["attempts"])
    return attempts


def _ask_again(message: str, code: str) -> DomainError:
    return DomainError(message, "code", code=code)


def verify(merchant, proof_id_or_email: int | str, code: str) -> ProvenEmail:
    """Check a code typed back for a proof (its id, or the address: its newest proof) of this
    merchant. A right code marks the proof used (once); a wrong one counts, MAX_TRIES of them
    spend it. Raises DomainError (field "code") with what to do next."""
    typed = "".join((code or "").split())
    if not (len(typed) == CODE_DIGITS and typed.isascii() and typed.isdigit()):
        raise DomainError(_("Enter the six-digit code from the email."), "code",
                          code="code_format")
    proof = _find(merchant, proof_id_or_email)
    now = utcnow()
    if proof is None:
        raise _ask_again(_("No code is waiting for this address. Ask for a new code."),
                         "code_missing")
    if proof.used_at is not None:
        raise _ask_again(_("This code was used already. Ask for a new code."), "code_used")
    if proof.attempts >= MAX_TRIES:
        raise _ask_again(_("Too many wrong codes. Ask for a new code."), "code_spent")
    if proof.expires_at <= now:
        raise _ask_again(_("This code has expired. Ask for a new code."), "code_expired")
    if not hmac.compare_digest(proof.code_hash, _code_hash(merchant.id, proof.email, typed)):
        attempts = _count_wrong_try(proof)
        left = MAX_TRIES - attempts
        if left <= 0:
            raise _ask_again(_("Too many wrong codes. Ask for a new code."), "code_spent")
        raise _ask_again(ngettext("That code is not right. %(num)d try left.",
                                  "That code is not right. %(num)d tries left.", left),
                         "code_wrong")
    # single use, even against a second request with the same code at the same moment
    used = db.session.execute(
        update(EmailProof)
        .where(EmailProof.id == proof.id, EmailProof.merchant_id == merchant.id,
               EmailProof.used_at.is_(None), EmailProof.attempts < MAX_TRIES)
        .values(used_at=now)
        .execution_options(synchronize_session=False))
    if used.rowcount != 1:
        raise _ask_again(_("This code was used already. Ask for a new code."), "code_used")
    db.session.expire(proof, ["used_at"])
    return ProvenEmail(merchant.id, proof.email, proof.id)


def proven(merchant, proof_id: int) -> ProvenEmail | None:
    """The proven address of a used proof of this merchant, for PROVEN_FOR after its use (a page
    keeps the proof's id in the visitor's session between the code and the order); else None."""
    proof = db.session.scalar(select(EmailProof).where(
        EmailProof.merchant_id == merchant.id, EmailProof.id == proof_id,
        EmailProof.used_at.is_not(None)))
    if proof is None or proof.used_at + PROVEN_FOR <= utcnow():
        return None
    return ProvenEmail(merchant.id, proof.email, proof.id)


def customer_for_proven_email(merchant, proven_email: ProvenEmail, first_name: str,
                              last_name: str) -> tuple[Customer, bool]:
    """The customer an order for a proven address belongs to: the merchant's customer with it
    as a Primary Email (an active one first; never a second record for the address), else a
    new customer with that address (in the guest's language), offered the Credential Create
    email once its first order is paid (C-5: `subscribers.offer_portal_after_first_purchase`).
    Returns (customer, created). Matching grants no access to the customer's account."""
    if not isinstance(proven_email, ProvenEmail) or proven_email.merchant_id != merchant.id:
        raise DomainError(_("Confirm your email address first."), "email",
                          code="email_not_proven")
    existing = db.session.scalar(
        select(Customer)
        .join(CustomerEmail, CustomerEmail.customer_id == Customer.id)
        .where(CustomerEmail.merchant_id == merchant.id, Customer.merchant_id == merchant.id,
               CustomerEmail.address == proven_email.email)
        .order_by(Customer.archived_at.is_not(None), Customer.id)
        .limit(1))
    if existing is not None:
        return existing, False
    errors = {}
    names = {}
    for field, value, minimum, label in (("first_name", first_name, 2, _("First name")),
                                         ("last_name", last_name, 1, _("Last name"))):
        try:
            names[field] = validation.person_name(value, minimum, label)[:100]
        except ValueError as exc:
            errors[field] = str(exc)
    if errors:
        raise DomainError.of(errors)
    customer = save_customer(merchant, None, details=names, emails=[proven_email.email],
                             custom_values={}, awaiting_purchase=True)
    # emails follow in the language the guest shopped in, as the code did
    customer.language = _language(merchant)
    return customer, True
