"""API keys (issue #25 item 1): create one (its secret shown once, on the answer to the
POST, never stored, never put in the session), list them by prefix, name and last use, revoke.

The answer to the POST is the page showing the secret (no redirect: the secret must not travel
through the session or a URL), so a reload would send the form again: each rendered form carries
a random `once`, remembered in the admin's session when used, and a second send of the same
form makes no second key."""
import secrets

from flask import abort, flash, redirect, render_template, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import InputRequired, Length

from ..core.domain import DomainError
from ..tenancy import api_keys, audit
from ..tenancy.permissions import Permission
from ..web.form_fields import TrimmedField, show_errors
from . import bp
from .access import current_merchant, permission_required

MANAGE = Permission.MANAGE_API_KEYS
USED = "api_key_forms_used"  # the `once` values of the forms already sent


class KeyForm(FlaskForm):
    name = TrimmedField("Name", validators=[InputRequired(), Length(max=80)],
                        description="Which system uses it, e.g. “Shop backend”.")
    once = HiddenField(validators=[InputRequired(), Length(max=64)])


class RevokeForm(FlaskForm):
    """CSRF token only."""


@bp.route("/api-keys", methods=["GET", "POST"])
@permission_required(MANAGE)
def api_keys_page():
    merchant = current_merchant()
    form = KeyForm()
    created = secret = None
    used = session.get(USED, [])
    if form.validate_on_submit() and form.once.data in used:
        flash("That form was sent already: its key was made, and its secret shown only then. "
              "Create another key if you did not copy it.", "info")
        return redirect(url_for("admin.api_keys_page"))
    if form.validate_on_submit():
        session[USED] = [*used, form.once.data][-20:]
        try:
            created, secret = api_keys.create_key(merchant, form.name.data,
                                                  current_user._get_current_object())
        except DomainError as exc:
            show_errors(form, exc, default="name")
        else:
            audit.record(merchant, current_user, "api_key.created",
                         audit.subject_of("api_key", created.id), label=created.name,
                         prefix=created.prefix)  # never the secret
            form = KeyForm(formdata=None)
    form.once.data = secrets.token_urlsafe(16)
    return render_template("admin/api_keys.html", form=form, keys=api_keys.list_keys(merchant),
                           created=created, secret=secret), 400 if form.errors else 200


@bp.route("/api-keys/<id:key_id>/revoke", methods=["GET", "POST"])
@permission_required(MANAGE)
def api_key_revoke(key_id: int):
    key = api_keys.get_key(current_merchant(), key_id)
    if key is None:
        abort(404)
    form = RevokeForm()
    if form.validate_on_submit():
        api_keys.revoke_key(key)
        audit.record(current_merchant(), current_user, "api_key.revoked",
                     audit.subject_of("api_key", key.id), label=key.name, prefix=key.prefix)
        flash(f"API key “{key.name}” ({key.prefix}…) revoked: it no longer works.", "success")
        return redirect(url_for("admin.api_keys_page"))
    return render_template("admin/api_key_revoke.html", key=key, form=form)
