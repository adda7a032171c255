"""The audit trail (T-9, issues #23 and #24): who in a merchant's admin changed what, from
where, when, with the values before and after.

One table for every admin action worth answering "who did this?" about. `subject` names the
record an entry is found under ("customer:12", "settings:portal"); `detail` holds what the
action needs to be understood afterwards: the subject's name as it was (`label`), the changed
values (`changes`: {field: {"before": …, "after": …}}), ids and counts. Entries are written in
the action's own transaction (flushed here, committed by the request), so an action and its
entry stand or fall together.

Append-only: this module offers writing and reading, no update and no delete (a test holds it
to that), and on PostgreSQL a trigger refuses both (migration d24d3e4f5a6b). Secrets are never
stored: a value under a secret-sounding name, or that looks like a key, is masked before the
entry is written.

Adding an audited admin action is one line in its view, `audit.changed(admin, action, subject,
before, after)`, and its word in `ACTIONS`. API keys and webhook endpoints (issue #25) will call
the same helper (`api_key.created`, `api_key.revoked`, `webhook_endpoint.changed`, with the
key's prefix only, never the key or the signing secret).
"""
import json
import re
from datetime import datetime

from flask import has_request_context, request
from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, mapped_column

from ..core.database import JSONType, UTCDateTime, utcnow
from ..core.extensions import db
from .models import AdminUser

# Every audited action, in the words the audit log's filter shows.
ACTIONS: dict[str, str] = {
    "settings.changed": "Configuration changed",
    "profile.created": "Profile created",
    "profile.changed": "Profile changed",
    "profile.tab_changed": "Profile tab changed",
    "profile.deleted": "Profile deleted",
    "customer.created": "Customer created",
    "customer.changed": "Customer edited",
    "customer.archived": "Customer archived",
    "customer.deleted": "Customer deleted",
    "customer.merged": "Customers merged",
    "credentials.invitation_sent": "Portal invitation sent",
    "credentials.create_email": "Create Credentials email sent",
    "credentials.reset_email": "Reset Password email sent",
    "credentials.temporary_password": "Temporary password sent",
    "credentials.username_changed": "Username changed",
    "credentials.username_deleted": "Username deleted",
    "credentials.unlocked": "Portal account unlocked",
    "email_template.changed": "Email template changed",
    "admin_user.invited": "Admin user added",
    "admin_user.changed": "Admin user role or access changed",
    "custom_field.created": "Custom field added",
    "custom_field.changed": "Custom field changed",
    "custom_field.moved": "Custom field moved",
    "custom_field.deleted": "Custom field deleted",
    # money going back (#24 item 3): the payment or invoice is the subject
    "payment.refunded": "Payment refunded",
    "credit_note.issued": "Credit note issued",
    "invoice.voided": "Invoice voided",
    "payment.recorded": "Offline payment recorded",
    # the API (#25): a key's prefix and name, never its secret
    "api_key.created": "API key created",
    "api_key.revoked": "API key revoked",
    # webhook endpoints (#25, A-2): the signing secret only ever masked
    "webhook_endpoint.created": "Webhook endpoint added",
    "webhook_endpoint.changed": "Webhook endpoint changed",
    "webhook_endpoint.secret_rotated": "Webhook signing secret rotated",
    "webhook_endpoint.deleted": "Webhook endpoint deleted",
}

MASK = "•••••• (hidden)"
# Names whose values are secrets: passwords, tokens, hashes, keys, webhook secrets. Settings
# about them (password_min_length) are not: the name must end in the secret word.
SECRET_NAME = re.compile(r"(^|_)(password|passwd|secret|token|hash|api_?key|secret_key|"
                         r"private_key|signing_key)$", re.IGNORECASE)
# Values that are keys whatever they are called: Stripe secret/restricted keys, webhook secrets.
SECRET_VALUE = re.compile(r"\b(sk|rk)_(live|test)_[A-Za-z0-9]{6,}|\bwhsec_[A-Za-z0-9]{6,}")


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_subject", "merchant_id", "subject", "id"),
                      Index("ix_audit_entry_merchant", "merchant_id", "id"),
                      Index("ix_audit_entry_action", "merchant_id", "action", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    # the admin who acted; kept (as None) when that admin user is deleted: `detail` names them
    admin_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(80))
    detail: Mapped[dict] = mapped_column(JSONType, default=dict)
    # where the admin was: the request's client address (behind proxies: PROXY_FIX_HOPS)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action)

    @property
    def changes(self) -> dict:
        return (self.detail or {}).get("changes") or {}


def subject_of(kind: str, row_id) -> str:
    return f"{kind}:{row_id}"


def _masked(name: str, value):
    """`value` as it may be stored: secrets replaced, everything else as JSON keeps it."""
    if value in (None, "", [], {}):
        return value
    if SECRET_NAME.search(str(name)):
        return MASK
    if isinstance(value, dict):
        return {k: _masked(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(name, v) for v in value]
    if isinstance(value, str) and SECRET_VALUE.search(value):
        return SECRET_VALUE.sub(MASK, value)
    if isinstance(value, bool | int | float | str):
        return value
    return json.loads(json.dumps(value, default=str))  # dates, decimals: as text


def _mask_changes(changes: dict) -> dict:
    """A diff with each side of a secret masked: the entry says it changed, never to what."""
    return {name: {side: _masked(name, value) for side, value in pair.items()}
            for name, pair in (changes or {}).items()}


def _request_ip() -> str | None:
    return (request.remote_addr or "")[:45] or None if has_request_context() else None


def record(merchant, admin: AdminUser | None, action: str, subject: str,
           **detail) -> AuditEntry:
    """Add an entry in the caller's transaction (flushed, not committed), secrets masked."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if admin is not None and admin.merchant_id != merchant.id:
        raise ValueError("an admin of another merchant")
    if admin is not None:
        detail.setdefault("admin_email", admin.email)
    entry = AuditEntry(merchant_id=merchant.id, admin_user_id=admin.id if admin else None,
                       action=action, subject=subject[:80],
                       detail={k: _mask_changes(v) if k == "changes" else _masked(k, v)
                               for k, v in detail.items()},
                       ip_address=_request_ip())
    db.session.add(entry)
    db.session.flush()
    return entry


def diff(before: dict | None, after: dict | None) -> dict:
    """{name: {"before": …, "after": …}} for every value that differs."""
    before, after = before or {}, after or {}
    return {name: {"before": before.get(name), "after": after.get(name)}
            for name in dict.fromkeys([*before, *after])
            if before.get(name) != after.get(name)}


def changed(admin: AdminUser, action: str, subject: str, before: dict | None = None,
            after: dict | None = None, *, label: str = "", **detail) -> AuditEntry | None:
    """The one helper every audited admin save calls: records what differs between `before`
    and `after` (None for a record created or deleted). A save that changed nothing writes no
    entry; an action with no state to compare (an email sent) passes neither."""
    changes = diff(before, after)
    if not changes and (before is not None or after is not None):
        return None
    return record(admin.merchant, admin, action, subject, label=label, changes=changes,
                  **detail)


def for_subject(merchant, subject: str, limit: int = 20) -> list[AuditEntry]:
    """The newest entries about one record, in one query."""
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.merchant_id == merchant.id,
                                 AuditEntry.subject == subject)
        .order_by(AuditEntry.id.desc()).limit(limit)))


def search(merchant, *, action: str = "", admin_user_id: int | None = None, subject: str = "",
           since: datetime | None = None, until: datetime | None = None,
           before_id: int | None = None, limit: int = 50) -> list[AuditEntry]:
    """Newest first, keyset-paginated by id (`before_id`): one query whatever the page.
    `subject` is a kind ("customer") or one record ("customer:12")."""
    stmt = select(AuditEntry).where(AuditEntry.merchant_id == merchant.id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if admin_user_id:
        stmt = stmt.where(AuditEntry.admin_user_id == admin_user_id)
    if subject:
        stmt = stmt.where(AuditEntry.subject == subject if ":" in subject
                          else AuditEntry.subject.like(f"{subject}:%"))
    if since is not None:
        stmt = stmt.where(AuditEntry.created_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.created_at < until)
    if before_id:
        stmt = stmt.where(AuditEntry.id < before_id)
    return list(db.session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit)))
