"""EmailMessage: one row per recipient address, the delivery log (N-3)."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.database import UTCDateTime, utcnow
from ..core.extensions import db

QUEUED, SENT, FAILED, KEPT = "queued", "sent", "failed", "kept"
STATUS_LABELS = {QUEUED: "Queued", SENT: "Sent", FAILED: "Failed",
                 KEPT: "Kept (no mail server configured)"}


class EmailMessage(db.Model):
    __tablename__ = "email_message"
    __table_args__ = (Index("ix_email_message_log", "merchant_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    email_type: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(254))
    reply_to: Mapped[str] = mapped_column(String(254), default="", server_default="")
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    # Stable across retries, so a receiver can drop a duplicate if a send is ever repeated.
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    last_error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(default=0)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)
