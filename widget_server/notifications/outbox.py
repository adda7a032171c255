"""Queueing email: one EmailMessage and one job per recipient address (C-2), in the caller's
transaction (N-1), unless the merchant switched the email type off (N-2)."""
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app

from ..core.extensions import db
from ..jobs.queue import enqueue
from ..tenancy.configuration import NOTIFICATIONS, merchant_settings
from .models import EmailMessage
from .types import EMAIL_TYPES

JOB_KIND = "email"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def type_enabled(merchant, email_type: str) -> bool:
    if EMAIL_TYPES[email_type].switch is None:  # the admin's test email: always sent
        return True
    return bool(getattr(merchant_settings(merchant, NOTIFICATIONS), email_type))


def new_message_id() -> str:
    domain = urlsplit(current_app.config["PUBLIC_URL"]).hostname or "localhost"
    return f"<{secrets.token_hex(16)}@{domain}>"


def queue_email(merchant, email_type: str, addresses: list[str], content: Rendered, *,
                reply_to: str = "", secrets: tuple[str, ...] = ()) -> list[EmailMessage]:
    """Queue `content` to every address; nothing when the type is switched off. Not committed:
    the caller's change and its emails commit (or roll back) together. `secrets` are values in
    the content (a temporary password, a link with a raw token) kept only until the message is
    sent, then masked in the stored texts; the delivery log never shows them."""
    if not type_enabled(merchant, email_type):
        return []
    messages = []
    for address in dict.fromkeys(a.strip().lower() for a in addresses if a.strip()):
        message = EmailMessage(merchant_id=merchant.id, email_type=email_type,
                               to_address=address, reply_to=reply_to,
                               subject=content.subject,
                               text_body=content.text, html_body=content.html,
                               message_id=new_message_id(),
                               secret_values=[v for v in secrets if v] or None)
        db.session.add(message)
        db.session.flush()
        job = enqueue(JOB_KIND, {"email_message_id": message.id}, merchant_id=merchant.id)
        db.session.flush()
        message.job_id = job.id
        messages.append(message)
    return messages
