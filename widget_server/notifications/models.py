"""EmailMessage: one row per recipient address, the delivery log (N-3)."""
import html
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.database import JSONType, UTCDateTime, utcnow
from ..core.extensions import db

QUEUED, SENT, FAILED, KEPT = "queued", "sent", "failed", "kept"
MASK = "••••"
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
    # The secrets in the texts (a temporary password, a link carrying a raw token), kept only
    # until the message is sent: then they are masked in the stored texts and this is cleared.
    secret_values: Mapped[list[str] | None] = mapped_column(JSONType)

    def masked(self, text: str) -> str:
        """`text` with this message's secrets replaced by "••••" (the delivery log's view)."""
        return mask(text, self.secret_values)

    @property
    def shown_subject(self) -> str:
        return self.masked(self.subject)

    @property
    def shown_text(self) -> str:
        return self.masked(self.text_body)

    @property
    def shown_html(self) -> str:
        return self.masked(self.html_body)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


def mask(text: str, secrets: list[str] | None) -> str:
    """Replace every secret, as written in a text part or escaped in the HTML part, by the mask."""
    for secret in sorted(secrets or (), key=len, reverse=True):
        if len(secret) < 6:  # too short to be a secret, and masking it would garble the text
            continue
        for form in dict.fromkeys((secret, html.escape(secret), html.escape(secret, quote=False),
                                   secret.replace("&", "&amp;"))):
            text = text.replace(form, MASK)
    return text
