"""The rules of service issues (#23 item 2, W-9), for the widget and the admin alike.

Opening and replying write a message (with its checked attachments, `attachments.check`) and
record a domain event whose subscribers email the other side through the outbox, in the same
transaction: `issue.customer_wrote` (to the assigned admin, else the merchant's admins who manage
customers) and `issue.answered` (to the customer, Issue Reply). A customer who writes in a
closed issue reopens it: the customer never meets a dead end, and the merchant sees it back in
the open inbox. An admin's reply leaves the status as it is (or closes it, when asked).
Every query is scoped by the merchant, and the customer's by the customer. Nothing commits.
"""
from sqlalchemy import select
from sqlalchemy.orm import selectinload, undefer

from ..core import events
from ..core.database import utcnow
from ..core.domain import DomainError
from ..core.extensions import db
from ..core.i18n import gettext as _
from ..core.validation import is_single_line, single_line_message
from ..customers.models import Customer
from ..tenancy.counters import next_number
from ..tenancy.models import AdminUser
from ..tenancy.permissions import Permission
from . import attachments
from .models import (
    ADMIN,
    CLOSED,
    CUSTOMER,
    OPEN,
    ServiceIssue,
    ServiceIssueAttachment,
    ServiceIssueMessage,
)

SEQUENCE = "issue"
SUBJECT_MAX = 200
BODY_MAX = 10_000


def _number(merchant) -> str:
    return f"ISS-{next_number(merchant, SEQUENCE):05d}"


def _checked_subject(subject: str) -> str:
    subject = " ".join((subject or "").split())
    if not subject:
        raise DomainError(_("Say in a few words what it is about."), "subject")
    if len(subject) > SUBJECT_MAX or not is_single_line(subject):
        raise DomainError(single_line_message() if not is_single_line(subject) else
                          _("Keep the subject under %(max)s characters.", max=SUBJECT_MAX),
                          "subject")
    return subject


def _checked_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise DomainError(_("Write your message."), "body")
    if len(body) > BODY_MAX:
        raise DomainError(_("Keep the message under %(max)s characters.", max=BODY_MAX),
                          "body")
    return body


def _checked(subject: str | None, body: str, files) -> tuple[str, str, list]:
    """The subject (when given), the body and the uploads, or one DomainError naming every
    field refused."""
    checks = [("body", _checked_body, body), (attachments.FIELD, attachments.check, files or [])]
    if subject is not None:
        checks.insert(0, ("subject", _checked_subject, subject))
    values, problems = {}, {}
    for field, check, value in checks:
        try:
            values[field] = check(value)
        except DomainError as exc:
            problems[field] = exc.message
    if problems:
        raise DomainError.of(problems)
    return values.get("subject", ""), values["body"], values[attachments.FIELD]


def _write(merchant, issue: ServiceIssue, author: str, body: str, uploads, *,
           admin: AdminUser | None = None) -> ServiceIssueMessage:
    message = ServiceIssueMessage(
        merchant_id=merchant.id, author=author, body=body,
        admin_user_id=admin.id if admin else None,
        admin_name=(admin.name or admin.email) if admin else "",
        attachments=[ServiceIssueAttachment(merchant_id=merchant.id, filename=u.filename,
                                            content_type=u.content_type, size=len(u.data),
                                            data=u.data) for u in uploads])
    issue.messages.append(message)
    issue.last_author = author
    issue.updated_at = utcnow()
    db.session.flush()
    return message


# --- the customer's side -------------------------------------------------------------------

def open_issue(merchant, customer: Customer, subject: str, body: str,
               files: list[tuple[str, bytes]] | None = None) -> ServiceIssue:
    """A new issue with its first message; the merchant is told (`issue.customer_wrote`)."""
    subject, body, uploads = _checked(subject, body, files)
    issue = ServiceIssue(merchant_id=merchant.id, customer_id=customer.id,
                         number=_number(merchant), subject=subject, status=OPEN)
    db.session.add(issue)
    message = _write(merchant, issue, CUSTOMER, body, uploads)
    events.record(merchant, "issue.customer_wrote", issue_id=issue.id, message_id=message.id,
                  customer_id=customer.id, opened=True)
    return issue


def customer_reply(merchant, customer: Customer, issue: ServiceIssue, body: str,
                   files: list[tuple[str, bytes]] | None = None) -> ServiceIssueMessage:
    """The customer writes in their issue; a closed one is reopened."""
    if issue.merchant_id != merchant.id or issue.customer_id != customer.id:
        raise DomainError(_("This issue is not yours."), code="not_found", status=404)
    body, uploads = _checked(None, body, files)[1:]
    message = _write(merchant, issue, CUSTOMER, body, uploads)
    if issue.status == CLOSED:
        issue.status, issue.closed_at = OPEN, None
    db.session.flush()
    events.record(merchant, "issue.customer_wrote", issue_id=issue.id, message_id=message.id,
                  customer_id=customer.id, opened=False)
    return message


def list_for_customer(merchant, customer: Customer, *, limit: int = 100) -> list[ServiceIssue]:
    """The customer's issues, open ones first, newest activity first."""
    return list(db.session.scalars(
        select(ServiceIssue)
        .where(ServiceIssue.merchant_id == merchant.id, ServiceIssue.customer_id == customer.id)
        .order_by(ServiceIssue.status.desc(), ServiceIssue.updated_at.desc(),
                  ServiceIssue.id.desc())
        .limit(limit)))


def _with_thread():
    """An issue's messages and their attachments (not their bytes) in two more queries, however
    long the thread: its page costs the same for three messages or three hundred."""
    return selectinload(ServiceIssue.messages).selectinload(ServiceIssueMessage.attachments)


def get_for_customer(merchant, customer: Customer, issue_id: int) -> ServiceIssue | None:
    return db.session.scalar(select(ServiceIssue).where(
        ServiceIssue.merchant_id == merchant.id, ServiceIssue.customer_id == customer.id,
        ServiceIssue.id == issue_id).options(_with_thread()))


def get_attachment(merchant, attachment_id: int, *,
                   customer_id: int | None = None) -> ServiceIssueAttachment | None:
    """An attachment of the merchant's issues (of that customer's, when given), with its bytes;
    None for anyone else's: the faces answer 404."""
    query = (select(ServiceIssueAttachment)
             .join(ServiceIssueMessage, ServiceIssueMessage.id == ServiceIssueAttachment.message_id)
             .join(ServiceIssue, ServiceIssue.id == ServiceIssueMessage.issue_id)
             .where(ServiceIssueAttachment.id == attachment_id,
                    ServiceIssueAttachment.merchant_id == merchant.id,
                    ServiceIssue.merchant_id == merchant.id))
    if customer_id is not None:
        query = query.where(ServiceIssue.customer_id == customer_id)
    return db.session.scalar(query.options(undefer(ServiceIssueAttachment.data)))


# --- the merchant's side -------------------------------------------------------------------

def inbox(merchant, *, status: str | None = OPEN, customer_id: int | None = None,
          assigned_admin_id: int | None = None, before_id: int | None = None,
          limit: int = 50) -> list[tuple[ServiceIssue, Customer]]:
    """The merchant's issues with their customers, newest first (keyset pages by id)."""
    query = (select(ServiceIssue, Customer)
             .join(Customer, Customer.id == ServiceIssue.customer_id)
             .where(ServiceIssue.merchant_id == merchant.id, Customer.merchant_id == merchant.id))
    if status:
        query = query.where(ServiceIssue.status == status)
    if customer_id:
        query = query.where(ServiceIssue.customer_id == customer_id)
    if assigned_admin_id:
        query = query.where(ServiceIssue.assigned_admin_id == assigned_admin_id)
    if before_id:
        query = query.where(ServiceIssue.id < before_id)
    return [tuple(row) for row in db.session.execute(
        query.order_by(ServiceIssue.id.desc()).limit(limit))]


def get_issue(merchant, issue_id: int) -> ServiceIssue | None:
    return db.session.scalar(select(ServiceIssue).where(ServiceIssue.merchant_id == merchant.id,
                                                        ServiceIssue.id == issue_id)
                             .options(_with_thread()))


def assignable_admins(merchant) -> list[AdminUser]:
    """The merchant's active admins who may answer issues (they manage customers)."""
    return [a for a in db.session.scalars(
        select(AdminUser).where(AdminUser.merchant_id == merchant.id, AdminUser.active)
        .order_by(AdminUser.name, AdminUser.email)) if a.can(Permission.MANAGE_CUSTOMERS)]


def admin_reply(merchant, admin: AdminUser, issue: ServiceIssue, body: str,
                files: list[tuple[str, bytes]] | None = None, *,
                close: bool = False) -> ServiceIssueMessage:
    """An admin answers; the customer is emailed (`issue.answered`). Closes it when asked."""
    if issue.merchant_id != merchant.id or admin.merchant_id != merchant.id:
        raise DomainError("No such issue.", code="not_found", status=404)
    body, uploads = _checked(None, body, files)[1:]
    message = _write(merchant, issue, ADMIN, body, uploads, admin=admin)
    if issue.assigned_admin_id is None:
        issue.assigned_admin_id = admin.id  # who answered first owns it, unless reassigned
    if close:
        close_issue(merchant, issue)
    events.record(merchant, "issue.answered", issue_id=issue.id, message_id=message.id,
                  customer_id=issue.customer_id)
    return message


def assign(merchant, issue: ServiceIssue, admin_id: int | None) -> None:
    """Give the issue to one of the merchant's admins who manage customers, or to nobody."""
    if admin_id is None:
        issue.assigned_admin_id = None
    else:
        admin = next((a for a in assignable_admins(merchant) if a.id == admin_id), None)
        if admin is None:
            raise DomainError("Choose one of your admins who manage customers.", "assignee")
        issue.assigned_admin_id = admin.id
    db.session.flush()


def close_issue(merchant, issue: ServiceIssue) -> None:
    if issue.merchant_id != merchant.id:
        raise DomainError("No such issue.", code="not_found", status=404)
    if issue.status != CLOSED:
        issue.status, issue.closed_at = CLOSED, utcnow()
        db.session.flush()


def reopen_issue(merchant, issue: ServiceIssue) -> None:
    if issue.merchant_id != merchant.id:
        raise DomainError("No such issue.", code="not_found", status=404)
    if issue.status != OPEN:
        issue.status, issue.closed_at = OPEN, None
        db.session.flush()


def recipients_for_merchant(merchant, issue: ServiceIssue) -> list[str]:
    """Who hears of the customer's message: the assigned admin (while active and allowed),
    else every active admin of the merchant who manages customers."""
    admins = assignable_admins(merchant)
    assigned = [a.email for a in admins if a.id == issue.assigned_admin_id]
    return assigned or [a.email for a in admins]
