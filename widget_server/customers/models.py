"""Customer, CustomerEmail and CustomFieldDefinition tables."""
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, event, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.database import JSONType, UTCDateTime, utcnow
from ..core.extensions import db
from .matching import SEARCH_LENGTH, duplicate_key, search_text

# States of a temporary password (C-7): usable once, then the customer must choose a new one.
TEMP_ISSUED, TEMP_USED = "issued", "used"

FIELD_TYPES = (("text", "Text"), ("number", "Number"), ("date", "Date"),
               ("boolean", "Yes / no"), ("choice", "Choice from a list"))


class CustomFieldDefinition(db.Model):
    """A field the merchant defines for every customer (T-5); profiles give it a mode (P-3)."""

    __tablename__ = "custom_field_definition"
    # Ids are never reused (SQLite would reuse the highest after a delete), so a new field never
    # inherits a deleted one's profile modes or customer values, which are keyed by id.
    __table_args__ = (UniqueConstraint("merchant_id", "name"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"),
                                             index=True)
    name: Mapped[str] = mapped_column(String(80))
    field_type: Mapped[str] = mapped_column(String(20), default="text")
    choices: Mapped[list] = mapped_column(JSONType, default=list)
    required: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Customer(db.Model):
    """An end customer of a merchant. Credentials (username, password) belong to the portal."""

    __tablename__ = "customer"
    __table_args__ = (UniqueConstraint("merchant_id", "username"),
                      Index("ix_customer_merchant_name", "merchant_id", "last_name", "first_name"),
                      # the customer list's duplicate hints (issue #23 item 5)
                      Index("ix_customer_duplicate_key", "merchant_id", "duplicate_key"),
                      # the admin's search (issue #24 item 2)
                      Index("ix_customer_search_text", "merchant_id", "search_text"))

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    company: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    address_line1: Mapped[str] = mapped_column(String(200), default="")
    address_line2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    status: Mapped[str] = mapped_column(String(20), default="active")
    # {definition_id: value}; values of removed definitions are ignored on read.
    custom_fields: Mapped[dict] = mapped_column(JSONType, default=dict)
    sales_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("sales_agent.id", ondelete="SET NULL"))
    username: Mapped[str | None] = mapped_column(String(150))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Lockout (C-8): consecutive failures; locked_at is set at the merchant's threshold.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    # Account credit from payments above the invoices' balances (W-3), in minor units.
    credit_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Autopay (P-2 Credit Card/ACH Mode): new invoices are charged to the default saved method.
    autopay: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The customer's id at the payment gateway (Stripe's cus_...), made when a method is saved.
    gateway_customer_ref: Mapped[str] = mapped_column(String(100), default="", server_default="")
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Temporary password (C-7): "issued" works for one sign-in before `temp_expires_at`, then
    # "used": the customer must choose a new password before anything else.
    temp_password_state: Mapped[str | None] = mapped_column(String(10))
    temp_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set instead of deleting a customer with money history (invoices, payments): their rows
    # keep their customer; an archived customer is out of the default lists and cannot sign in.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language of the customer's last widget request ('de'), their emails' language (B-5,
    # `core.i18n.customer_language`); None until they use the widget: the merchant's language.
    language: Mapped[str | None] = mapped_column(String(8))
    # Set when an admin merged this record into another (W-10, issue #23, `customers.merge`):
    # the record is kept (never deleted), archived, out of every list, and its admin URLs
    # redirect to the survivor. Always the final survivor: a later merge repoints it.
    # (NO ACTION: a survivor with merged records cannot be deleted, it is archived instead)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    # Folded name and phone digits ("jane doe|15550100", `matching.duplicate_key`), kept on
    # every write: records sharing it are flagged as likely duplicates. None without a phone.
    duplicate_key: Mapped[str | None] = mapped_column(String(200))
    # Name, company and username folded (`matching.search_text`: no accents, no case), kept on
    # every write: the admin's search matches "lukas" to "Łukasiewicz" on any database.
    # (no Python default: rows written by older code paths take the server's "")
    search_text: Mapped[str] = mapped_column(String(SEARCH_LENGTH), server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    emails: Mapped[list["CustomerEmail"]] = relationship(
        back_populates="customer", cascade="all, delete-orphan",
        order_by="CustomerEmail.position")  # loaded when used: most pages show none

    @property
    def contact_name(self) -> str:
        """The name emails and documents address the customer by."""
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def display_name(self) -> str:
        return f"{self.contact_name} ({self.company})" if self.company else self.contact_name

    @property
    def primary_emails(self) -> list[str]:
        return [e.address for e in self.emails]


@event.listens_for(Customer, "before_insert")
@event.listens_for(Customer, "before_update")
def _keep_duplicate_key(mapper, connection, customer: Customer) -> None:
    """Whatever writes a name or a phone (admin, profile page, guest checkout), the key follows;
    the search text too."""
    customer.duplicate_key = duplicate_key(customer.first_name, customer.last_name,
                                           customer.phone)
    customer.search_text = search_text(customer.first_name, customer.last_name,
                                       customer.company, customer.username)


class CustomerEmail(db.Model):
    """One address of a customer's Primary Email (C-2): every notification goes to each."""

    __tablename__ = "customer_email"
    __table_args__ = (UniqueConstraint("customer_id", "address"),
                      Index("ix_customer_email_lookup", "merchant_id", "address"))

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    # Copied from the customer so lookups by address stay inside one merchant without a join.
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(254))  # stored lower-case
    position: Mapped[int] = mapped_column(default=0)

    customer: Mapped[Customer] = relationship(back_populates="emails")


class PortalSession(db.Model):
    """A customer's signed-in session, kept on the server so it can be revoked (logout, password
    change, admin action). The cookie holds only the random token; the table holds its hash."""

    __tablename__ = "portal_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"),
                                             index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why it ended, when the customer should be told on the next visit (issue #20-8):
    # "password" when a new password ended every session.
    ended_because: Mapped[str | None] = mapped_column(String(20))


class CredentialToken(db.Model):
    """A single-use link token (create credentials, reset password, invitation). Only its hash
    is kept; it is consumed when the credentials are actually set, never by opening the link."""

    __tablename__ = "credential_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"),
                                             index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # create | reset | invite
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginFailure(db.Model):
    """Failed sign-ins under a login that names no customer with a password (C-8, issue #19-9).

    Counted and locked exactly like a customer's own `failed_logins` / `locked_at`, so an
    unknown login answers "locked" at the same count as a known one: the lockout never tells
    which accounts exist. Keyed by an HMAC of the normalised login, never the login itself (a
    password typed into the wrong box stays unreadable)."""

    __tablename__ = "login_failure"
    __table_args__ = (UniqueConstraint("merchant_id", "login_digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    login_digest: Mapped[str] = mapped_column(String(64))
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EmailProof(db.Model):
    """A six-digit code sent to a guest's address at checkout (issue #22 slice c): proving the
    address, not signing in. Only an HMAC of the code is kept (`customers.email_proof`); the
    client's key (its IP or widget session) is kept as an HMAC too, for the throttle."""

    __tablename__ = "email_proof"
    __table_args__ = (Index("ix_email_proof_merchant_email", "merchant_id", "email", "created_at"),
                      Index("ix_email_proof_merchant_client", "merchant_id", "client_digest",
                            "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))  # normalised, lower-case
    code_hash: Mapped[str] = mapped_column(String(64))
    client_digest: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignInToken(db.Model):
    """A single sign-on token (E-8, issue #25 item 6): issued by the merchant's server through
    `POST /api/v1/portal_sessions`, exchanged once, within minutes, for a portal session. Only
    its hash is kept. `used_at` is set by one conditional UPDATE (single use under races);
    `cancelled_at` when a newer token for the same customer replaced it unused."""

    __tablename__ = "sign_in_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"),
                                             index=True)
    return_url: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
