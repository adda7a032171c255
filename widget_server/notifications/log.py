"""The delivery log (N-3): listing, one message, retrying; always within one merchant."""
from sqlalchemy import func, select

from ..core.extensions import db
from ..jobs.queue import enqueue
from .models import FAILED, KEPT, QUEUED, EmailMessage
from .outbox import JOB_KIND


def list_messages(merchant, *, status: str = "", email_type: str = "", query: str = "",
                  before_id: int | None = None, limit: int = 50) -> list[EmailMessage]:
    """Newest first, keyset-paginated by id (`before_id`)."""
    stmt = select(EmailMessage).where(EmailMessage.merchant_id == merchant.id)
    if status:
        stmt = stmt.where(EmailMessage.status == status)
    if email_type:
        stmt = stmt.where(EmailMessage.email_type == email_type)
    if query:
        like = f"%{query.strip().lower()}%"
        stmt = stmt.where((EmailMessage.to_address.like(like))
                          | (func.lower(EmailMessage.subject).like(like)))
    if before_id:
        stmt = stmt.where(EmailMessage.id < before_id)
    return list(db.session.scalars(stmt.order_by(EmailMessage.id.desc()).limit(limit)))


def get_message(merchant, message_id: int) -> EmailMessage | None:
    return db.session.scalar(select(EmailMessage).where(EmailMessage.merchant_id == merchant.id,
                                                        EmailMessage.id == message_id))


def retry(message: EmailMessage) -> bool:
    """Queue a failed (or kept) message again, with the same Message-ID."""
    if message.status not in (FAILED, KEPT):
        return False
    message.status, message.last_error = QUEUED, ""
    job = enqueue(JOB_KIND, {"email_message_id": message.id}, merchant_id=message.merchant_id)
    db.session.flush()
    message.job_id = job.id
    db.session.flush()
    return True
