"""Merchants' secret API keys (A-1, issue #25 item 1).

A key reads `sk_live_` and 43 random URL-safe characters (32 bytes). Only its SHA-256 is kept:
a random 32-byte secret needs no slow hash, and a lookup by hash is one indexed read. The
admin sees the secret once, when it is made; afterwards only its prefix, its name and when it
was last used. A revoked key stays listed, and answers 401 like an unknown one.
"""
import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.database import UTCDateTime, utcnow
from ..core.domain import DomainError
from ..core.extensions import db
from ..core.validation import is_single_line

KEY_PREFIX = "sk_live_"
SHOWN = len(KEY_PREFIX) + 4  # what the list shows of a key: sk_live_AbCd
KEY_RE = re.compile(r"^sk_live_[A-Za-z0-9_-]{43}$")
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per key


class ApiKey(db.Model):
    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"),
                                             index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(20))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_user.id", ondelete="SET NULL"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    merchant = relationship("Merchant", lazy="joined")
    created_by = relationship("AdminUser")

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(merchant, name: str, created_by=None) -> tuple[ApiKey, str]:
    """A new key and its secret, which is never stored: show it now or never."""
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("Name the key, for example after the system that will use it.", "name")
    if len(name) > 80 or not is_single_line(name):
        raise DomainError("Use one line of at most 80 characters.", "name")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(merchant_id=merchant.id, name=name, prefix=secret[:SHOWN],
                 secret_hash=hash_secret(secret),
                 created_by_id=created_by.id if created_by is not None else None)
    db.session.add(key)
    db.session.flush()
    return key, secret


def list_keys(merchant) -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).where(ApiKey.merchant_id == merchant.id)
                                   .order_by(ApiKey.revoked_at.is_not(None),
                                             ApiKey.created_at.desc(), ApiKey.id.desc())))


def get_key(merchant, key_id: int) -> ApiKey | None:
    return db.session.scalar(select(ApiKey).where(ApiKey.merchant_id == merchant.id,
                                                  ApiKey.id == key_id))


def revoke_key(key: ApiKey) -> None:
    key.revoked_at = key.revoked_at or utcnow()
    db.session.flush()


def authenticate(secret: str | None) -> ApiKey | None:
    """The live key this secret is, or None (malformed, unknown or revoked). Notes its use."""
    if not secret or not KEY_RE.match(secret):
        return None
    key = db.session.scalar(select(ApiKey).where(ApiKey.secret_hash == hash_secret(secret)))
    if key is None or key.revoked_at is not None:
        return None
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
        key.last_used_at = now
    return key
