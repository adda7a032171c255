"""Email in the admin (N-2, N-3, I-4): the delivery log, one message, retry, templates, test."""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from ..core.domain import DomainError
from ..core.extensions import db
from ..notifications import log, templates
from ..notifications.models import STATUS_LABELS
from ..notifications.outbox import queue_email, type_enabled
from ..tenancy import audit
from ..tenancy.permissions import Permission
from ..web.form_fields import TrimmedField, show_errors
from ..web.request_guards import optional_id
from . import bp
from .access import current_merchant, permission_required

MANAGE = Permission.MANAGE_SETTINGS


class ActionForm(FlaskForm):
    """CSRF token only."""


class TemplateForm(FlaskForm):
    subject = TrimmedField("Subject", validators=[Length(max=200)])
    body = TextAreaField("Body", validators=[Length(max=10000)], render_kw={"rows": 12})


@bp.get("/emails")
@permission_required(MANAGE)
def emails():
    status = request.args.get("status", "")
    email_type = request.args.get("type", "")
    query = request.args.get("q", "")[:200]
    before = optional_id(request.args.get("before"))
    status = status if status in STATUS_LABELS else ""
    email_type = email_type if email_type in templates.EMAIL_TYPES else ""
    messages = log.list_messages(current_merchant(), status=status, email_type=email_type,
                                 query=query, before_id=before, limit=50)
    return render_template("admin/emails/log.html", messages=messages, status=status,
                           email_type=email_type, query=query, statuses=STATUS_LABELS,
                           types=templates.EMAIL_TYPES, action_form=ActionForm(),
                           mail_server=current_app.config.get("MAIL_SERVER"))


@bp.get("/emails/<id:message_id>")
@permission_required(MANAGE)
def email_detail(message_id: int):
    message = log.get_message(current_merchant(), message_id) or abort(404)
    return render_template("admin/emails/detail.html", message=message,
                           types=templates.EMAIL_TYPES, action_form=ActionForm())


@bp.get("/emails/<id:message_id>/html")
@permission_required(MANAGE)
def email_html(message_id: int):
    """The HTML part alone, sandboxed: framed by the detail page, never run as a document.
    Secrets (a temporary password, a link's raw token) are masked."""
    message = log.get_message(current_merchant(), message_id) or abort(404)
    response = current_app.response_class(message.shown_html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; sandbox; "
        "frame-ancestors 'self'")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.post("/emails/<id:message_id>/retry")
@permission_required(MANAGE)
def email_retry(message_id: int):
    message = log.get_message(current_merchant(), message_id) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    if log.retry(message):
        flash(f"The message to {message.to_address} is queued again.", "success")
    else:
        flash("Only failed or kept messages can be sent again.", "error")
    return redirect(url_for("admin.email_detail", message_id=message.id))


@bp.post("/emails/test")
@permission_required(MANAGE)
def email_test():
    """Send a test email to the signed-in admin: the quickest check of the SMTP settings."""
    if not ActionForm().validate_on_submit():
        abort(400)
    merchant = current_merchant()
    content = templates.render(merchant, "test", {
        "contact_name": current_user.name or current_user.email,
        "portal_link": f"{current_app.config['PUBLIC_URL']}/p/{merchant.slug}/"})
    queue_email(merchant, "test", [current_user.email], content)
    db.session.flush()
    flash(f"A test email to {current_user.email} is queued; it appears below.", "success")
    return redirect(url_for("admin.emails"))


@bp.get("/emails/templates")
@permission_required(MANAGE)
def email_templates():
    merchant = current_merchant()
    rows = [(t, type_enabled(merchant, t.key)) for t in templates.EDITABLE]
    return render_template("admin/emails/templates.html", rows=rows)


@bp.route("/emails/templates/<type_key>", methods=["GET", "POST"])
@permission_required(MANAGE)
def email_template(type_key: str):
    email_type = templates.EMAIL_TYPES.get(type_key)
    if email_type is None or email_type not in templates.EDITABLE:
        abort(404)
    merchant = current_merchant()
    subject, body = templates.texts_for(merchant, email_type)
    form = TemplateForm(data={"subject": subject, "body": body})
    if form.validate_on_submit():
        before = {"subject": subject, "body": body}
        try:
            templates.save_override(merchant, type_key, form.subject.data or "",
                                    form.body.data or "")
        except DomainError as exc:
            for message in show_errors(form, exc):
                flash(message, "error")
        else:
            after = templates.texts_for(merchant, email_type)
            audit.changed(current_user, "email_template.changed",
                          audit.subject_of("email_template", type_key), before,
                          {"subject": after[0], "body": after[1]}, label=email_type.label)
            flash(f"{email_type.label} email saved.", "success")
            return redirect(url_for("admin.email_template", type_key=type_key))
    sample = templates.render(merchant, type_key, {t: f"[{templates.TOKEN_LABELS[t]}]"
                                                   for t in email_type.tokens})
    return render_template("admin/emails/template.html", form=form, email_type=email_type,
                           token_labels=templates.TOKEN_LABELS, sample=sample,
                           enabled=type_enabled(merchant, type_key)), 400 if form.errors else 200
