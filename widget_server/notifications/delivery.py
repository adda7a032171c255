"""Delivering queued email over SMTP (Flask-Mail), as the "email" job kind.

At-least-once: a message is marked sent in the same transaction that finishes its job, after the
SMTP server accepted it. If a worker dies in that short window, the job's lease expires and the
message is sent again, with the same Message-ID (receivers and most mail systems drop such a
duplicate). A message already marked sent is never sent again.
"""
import smtplib

from flask import current_app
from flask_mail import Message

from ..core.database import utcnow
from ..core.extensions import db, mail
from ..jobs.queue import PermanentError, RetryLater, handler, on_failure
from ..tenancy.models import Merchant
from .models import FAILED, KEPT, SENT, EmailMessage
from .outbox import JOB_KIND


@handler(JOB_KIND)
def deliver(job) -> None:
    message = db.session.get(EmailMessage, job.payload["email_message_id"])
    if message is None or message.status in (SENT, KEPT):
        return
    message.attempts = job.attempts
    if not current_app.config.get("MAIL_SERVER"):
        message.status = KEPT  # nothing is dropped: readable in the admin's delivery log
        return
    outgoing = Message(subject=message.subject, recipients=[message.to_address],
                       body=message.text_body, html=message.html_body,
                       sender=_sender(message.merchant_id),
                       reply_to=message.reply_to or None)
    outgoing.msgId = message.message_id
    try:
        mail.send(outgoing)
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentError(f"the mail server refused {message.to_address}") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise RetryLater(f"mail server unavailable: {exc}") from exc
    message.status, message.sent_at, message.last_error = SENT, utcnow(), ""


def _sender(merchant_id: int):
    """From: the merchant's name on the configured sending address."""
    merchant = db.session.get(Merchant, merchant_id)
    address = current_app.config["MAIL_DEFAULT_SENDER"]
    return (merchant.name, address) if merchant else address


@on_failure(JOB_KIND)
def record_failure(job) -> None:
    message = db.session.get(EmailMessage, job.payload.get("email_message_id"))
    if message is None:
        return
    message.attempts = job.attempts
    message.last_error = job.last_error
    if job.status == "failed":
        message.status = FAILED
