"""The merchant's issues inbox (#23 item 2, W-9): the customers' service issues, filtered open or
closed (and by customer or assignee), each with its thread; reply (with attachments), assign to
an admin who manages customers, close, reopen. Attachments download only for this merchant's
admins, as the widget serves them to their customer (`widget.issues.download`'s headers)."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..core.domain import DomainError
from ..customers import services as customer_services
from ..support import attachments
from ..support import services as issues
from ..support.downloads import as_download
from ..support.models import CLOSED, ISSUE_STATUSES, OPEN
from ..tenancy.permissions import Permission
from ..web.form_fields import select_choices, show_errors
from ..web.request_guards import accepts_uploads, optional_id
from . import bp
from .access import current_merchant, permission_required

MANAGE = Permission.MANAGE_CUSTOMERS
PAGE = 50


class ActionForm(FlaskForm):
    """CSRF token only: close, reopen."""


class AdminReplyForm(FlaskForm):
    body = TextAreaField("Message to the customer",
                         validators=[DataRequired(), Length(max=issues.BODY_MAX)],
                         render_kw={"rows": 6})
    attachments = MultipleFileField("Attachments (optional)")
    close = BooleanField("Close the issue with this reply")


class AssignForm(FlaskForm):
    assignee = SelectField("Assigned to", validate_choice=False)


def _files() -> list[tuple[str, bytes]]:
    return attachments.read_uploads(request.files.getlist(attachments.FIELD))


def _signed_in_allowance() -> int | None:
    """The larger body only for a signed-in admin; anyone else keeps the app's limit."""
    return attachments.request_allowance() if current_user.is_authenticated else None


def _hint() -> str:
    return (f"Up to {attachments.max_files()} files: PDF, PNG, JPEG or plain text, each at most "
            f"{attachments.max_bytes() // (1024 * 1024)} MB. The customer can download them.")


@bp.get("/issues")
@permission_required(MANAGE)
def issues_inbox():
    merchant = current_merchant()
    status = request.args.get("status", OPEN)
    status = status if status in (*ISSUE_STATUSES, "all") else OPEN
    customer_id = optional_id(request.args.get("customer"))
    customer = customer_services.get_customer(merchant, customer_id) if customer_id else None
    if customer_id and customer is None:
        abort(404)
    mine = request.args.get("assigned") == "me"
    before = optional_id(request.args.get("before"))
    rows = issues.inbox(merchant, status=None if status == "all" else status,
                        customer_id=customer_id,
                        assigned_admin_id=current_user.id if mine else None,
                        before_id=before, limit=PAGE + 1)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    admins = {a.id: a for a in issues.assignable_admins(merchant)}
    return render_template("admin/issues/list.html", rows=rows, status=status, mine=mine,
                           customer=customer, admins=admins, before=before,
                           next_before=rows[-1][0].id if more else None)


def _issue(issue_id: int):
    merchant = current_merchant()
    return merchant, issues.get_issue(merchant, issue_id) or abort(404)


def _detail(merchant, issue, reply_form=None, status=200):
    customer = customer_services.get_customer(merchant, issue.customer_id)
    admins = issues.assignable_admins(merchant)
    assign_form = AssignForm(formdata=None)
    assign_form.assignee.choices = select_choices(
        [("", "Nobody"), *((str(a.id), a.name or a.email) for a in admins)])
    assign_form.assignee.data = str(issue.assigned_admin_id or "")
    return render_template("admin/issues/detail.html", issue=issue, customer=customer,
                           reply_form=reply_form or AdminReplyForm(formdata=None),
                           assign_form=assign_form, form=ActionForm(), hint=_hint(),
                           admins={a.id: a for a in admins}), status


@bp.get("/issues/<id:issue_id>")
@permission_required(MANAGE)
def issue_detail(issue_id: int):
    return _detail(*_issue(issue_id))


@bp.post("/issues/<id:issue_id>/reply")
@permission_required(MANAGE)
@accepts_uploads(_signed_in_allowance)
def issue_reply(issue_id: int):
    merchant, issue = _issue(issue_id)
    form = AdminReplyForm()
    if form.validate_on_submit():
        try:
            issues.admin_reply(merchant, current_user, issue, form.body.data, _files(),
                               close=form.close.data)
        except DomainError as exc:
            form.form_errors.extend(show_errors(form, exc))
            merchant, issue = _issue(issue_id)
        else:
            flash("Reply sent: the customer is emailed with a link to the issue"
                  + (", which is now closed." if form.close.data else "."), "success")
            return redirect(url_for("admin.issue_detail", issue_id=issue_id))
    return _detail(merchant, issue, form, status=400)


@bp.post("/issues/<id:issue_id>/assign")
@permission_required(MANAGE)
def issue_assign(issue_id: int):
    merchant, issue = _issue(issue_id)
    form = AssignForm()
    if not form.validate_on_submit():
        abort(400)
    raw = form.assignee.data or ""
    try:
        issues.assign(merchant, issue, optional_id(raw) if raw else None)
    except DomainError as exc:
        flash(" ".join(show_errors(None, exc)), "error")
    else:
        flash("Assignment saved.", "success")
    return redirect(url_for("admin.issue_detail", issue_id=issue_id))


@bp.post("/issues/<id:issue_id>/<any(close, reopen):action>")
@permission_required(MANAGE)
def issue_status(issue_id: int, action: str):
    merchant, issue = _issue(issue_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if action == "close":
        issues.close_issue(merchant, issue)
    else:
        issues.reopen_issue(merchant, issue)
    flash(f"Issue {issue.number} is {CLOSED if action == 'close' else OPEN}.", "success")
    return redirect(url_for("admin.issue_detail", issue_id=issue_id))


@bp.get("/issues/attachments/<id:attachment_id>")
@permission_required(MANAGE)
def issue_attachment(attachment_id: int):
    attachment = issues.get_attachment(current_merchant(), attachment_id)
    return as_download(attachment or abort(404))
