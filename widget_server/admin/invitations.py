"""Send Customer Portal Invite (I-1, I-2): the bulk action on the customers list."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from ..core.domain import DomainError
from ..core.tokens import COMMON
from ..customers import invitations
from ..notifications.outbox import type_enabled
from ..notifications.templates import TOKEN_LABELS
from ..tenancy import audit
from ..tenancy.configuration import INVITATIONS, merchant_settings
from ..tenancy.permissions import Permission
from ..web.form_fields import TrimmedField, show_errors
from ..web.request_guards import optional_id
from . import bp
from .access import current_merchant, permission_required

INVITE = Permission.SEND_INVITATIONS


class InvitationForm(FlaskForm):
    subject = TrimmedField("Subject", validators=[Length(max=200)])
    body = TextAreaField("Body", validators=[Length(max=10000)], render_kw={"rows": 10})


def _ids(values) -> list[int]:
    return [i for i in (optional_id(v) for v in values) if i is not None]


@bp.route("/invitations", methods=["GET", "POST"])
@permission_required(INVITE)
def invitation():
    """GET: the invitation screen for the selected contacts (?id=…&id=…). POST: send, or
    update the To list (remove unticked contacts, add contacts found by the search)."""
    merchant = current_merchant()
    if not invitations.portal_enabled(merchant):
        flash("The customer portal is switched off, so invitations cannot be sent. Switch it on "
              "under Configuration → Customer portal.", "error")
        return redirect(url_for("admin.customers"))
    defaults = merchant_settings(merchant, INVITATIONS)
    form = InvitationForm(data={"subject": defaults.invitation_subject,
                                "body": defaults.invitation_body})
    ids = _ids(request.values.getlist("id"))
    if request.method == "POST" and request.form.get("add"):
        from ..customers import services

        found = services.search_customers(merchant, request.form["add"][:200], 1, 20).items
        ids += [c.id for c in found if c.id not in ids]
    people = invitations.recipients(merchant, ids)
    if request.method == "POST" and "send" in request.form and form.validate_on_submit():
        try:
            count = invitations.send(merchant, current_user.email, people, form.subject.data,
                                     form.body.data)
        except DomainError as exc:
            for message in show_errors(form, exc):
                flash(message, "error")
        else:
            for person in people if count else ():  # invited: those with an address
                if person.primary_emails:
                    audit.changed(current_user, "credentials.invitation_sent",
                                  audit.subject_of("customer", person.id),
                                  label=person.display_name, email_subject=form.subject.data)
            if count:
                flash(f"Invitations queued for {count} contact{'s' if count != 1 else ''}. "
                      "They appear in the delivery log.", "success")
            elif not type_enabled(merchant, "invitation"):
                flash("The Invitation email is switched off (Configuration → Email "
                      "notifications): nothing was sent.", "error")
            else:
                flash("None of these contacts has an email address: nothing was sent.", "error")
            return redirect(url_for("admin.customers"))
    elif request.method == "POST" and "send" not in request.form:
        form = InvitationForm()  # keep what the admin typed while updating the To list
        form.validate_on_submit()
    return render_template("admin/invitations.html", form=form, people=people,
                           tokens=COMMON, token_labels=TOKEN_LABELS), (
        400 if form.errors else 200)


def can_invite() -> bool:
    return current_user.can(INVITE) and invitations.portal_enabled(current_merchant())


@bp.context_processor
def _invite_flag():
    """The customers list shows the bulk action only to those who may use it (I-1)."""
    return {"can_invite": lambda: current_user.is_authenticated and can_invite()}


