"""Service issues in the widget (#23 item 2, W-9; the Global tab's Show Issues, P-7): the
customer's issues, a new one, its thread with a reply form, and their attachments as downloads.

Writing in a closed issue reopens it (`support.services.customer_reply`). Attachments are served
only to their customer, as downloads (`Content-Disposition: attachment`, `nosniff`, a sandboxing
policy) with the type their bytes showed, never rendered as a page.
"""
from flask import abort, flash, g, redirect, request, session, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from ..core.domain import DomainError
from ..core.extensions import limiter
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..support import attachments
from ..support import services as issues
from ..support.downloads import as_download
from ..web.form_fields import TrimmedField, show_errors
from ..web.request_guards import accepts_uploads
from . import bp
from .context import SESSION_KEY
from .rendering import EVENT_KEY, render_widget, widget_event

# Per customer: each message emails the merchant's admins, so nobody floods their inboxes.
NEW_ISSUE_LIMIT = "10 per hour"
MESSAGE_LIMIT = "60 per hour"


def _per_customer() -> str:
    """The signed-in customer (the view runs only for one); their session else."""
    customer = g.get("customer")
    return f"issues:{customer.merchant_id}:{customer.id}" if customer is not None \
        else f"issues:{session.get(SESSION_KEY)}"


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=issues.BODY_MAX)],
                         render_kw={"rows": 6})
    attachments = MultipleFileField(_l("Attachments (optional)"))


class NewIssueForm(ReplyForm):
    subject = TrimmedField(_l("Subject"), validators=[InputRequired(),
                                                     Length(max=issues.SUBJECT_MAX)])


def uploaded_files() -> list[tuple[str, bytes]]:
    return attachments.read_uploads(request.files.getlist(attachments.FIELD))


def _signed_in_allowance() -> int | None:
    """The larger body only for a request carrying a portal session (checked in full later);
    a visitor's stays under the app's limit."""
    return attachments.request_allowance() if session.get(SESSION_KEY) else None


def attachment_hint() -> str:
    return _("Up to %(count)s files: PDF, PNG, JPEG or plain text, each at most %(size)s MB.",
             count=attachments.max_files(),
             size=attachments.max_bytes() // (1024 * 1024))


@bp.get("/issues")
def issues_list():
    return render_widget("widget/issues.html",
                         issues=issues.list_for_customer(g.merchant, g.customer))


@bp.route("/issues/new", methods=["GET", "POST"])
@accepts_uploads(_signed_in_allowance)
@limiter.limit(NEW_ISSUE_LIMIT, methods=["POST"], key_func=_per_customer)
def new_issue():
    form = NewIssueForm()
    if form.validate_on_submit():
        try:
            issue = issues.open_issue(g.merchant, g.customer, form.subject.data,
                                      form.body.data, uploaded_files())
        except DomainError as exc:
            form.form_errors.extend(show_errors(form, exc))
        else:
            flash(_("Your request %(number)s is sent. We will answer here and by email.",
                    number=issue.number), "success")
            session[EVENT_KEY] = widget_event("issue-opened", issue=issue.number)
            return redirect(url_for(".issue_detail", issue_id=issue.id))
    return render_widget("widget/issue_new.html", form=form, hint=attachment_hint(),
                         status=400 if form.errors or form.form_errors else 200)


@bp.route("/issues/<id:issue_id>", methods=["GET", "POST"])
@accepts_uploads(_signed_in_allowance)
@limiter.limit(MESSAGE_LIMIT, methods=["POST"], key_func=_per_customer)
def issue_detail(issue_id: int):
    issue = issues.get_for_customer(g.merchant, g.customer, issue_id) or abort(404)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            issues.customer_reply(g.merchant, g.customer, issue, form.body.data,
                                  uploaded_files())
        except DomainError as exc:
            form.form_errors.extend(show_errors(form, exc))
            issue = issues.get_for_customer(g.merchant, g.customer, issue_id) or abort(404)
        else:
            flash(_("Your message is sent."), "success")
            session[EVENT_KEY] = widget_event("issue-replied", issue=issue.number)
            return redirect(url_for(".issue_detail", issue_id=issue.id, _anchor="reply"))
    return render_widget("widget/issue.html", issue=issue, form=form, hint=attachment_hint(),
                         status=400 if form.errors or form.form_errors else 200)


@bp.get("/issues/attachments/<id:attachment_id>")
def issue_attachment(attachment_id: int):
    attachment = issues.get_attachment(g.merchant, attachment_id, customer_id=g.customer.id)
    return as_download(attachment or abort(404))
