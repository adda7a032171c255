"""The audit trail (issue #23): who in a merchant's admin did what to which record, and when.

One small table for every admin action worth answering "who did this?" about: the merge of two
customers first (W-10); later actions add their own `action` words. `subject` names the record
the entry is found under ("customer:12"); `detail` holds what the action needs to be understood
afterwards (ids, counts, names as they were). Entries are written in the action's own
transaction (flushed here, committed by the request), so an action and its entry stand or fall
together.
"""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, mapped_column

from ..core.database import JSONType, UTCDateTime, utcnow
from ..core.extensions import db
from .models import AdminUser

ACTIONS = frozenset({"customer.merged",
                     # money going back (#24): the payment or invoice is the subject
                     "payment.refunded", "credit_note.issued", "invoice.voided",
                     "payment.recorded"})

class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_subject", "merchant_id", "subject", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    # the admin who acted; kept (as None) when that admin user is deleted: `detail` names them
    admin_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(80))
    detail: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

def subject_of(kind: str, row_id: int) -> str:
    return f"{kind}:{row_id}"

def record(merchant, admin: AdminUser | None, action: str, subject: str,
           **detail) -> AuditEntry:
    """Add an entry in the caller's transaction (flushed, not committed)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if admin is not None and admin.merchant_id != merchant.id:
        raise ValueError("an admin of another merchant")
    if admin is not None:
        detail.setdefault("admin_email", admin.email)
    entry = AuditEntry(merchant_id=merchant.id, admin_user_id=admin.id if admin else None,
                       action=action, subject=subject, detail=detail)
    db.session.add(entry)
    db.session.flush()
    return entry

def for_subject(merchant, subject: str, limit: int = 20) -> list[AuditEntry]:
    """The newest entries about one record, in one query."""
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.merchant_id == merchant.id,
                                 AuditEntry.subject == subject)
        .order_by(AuditEntry.id.desc()).limit(limit)))
