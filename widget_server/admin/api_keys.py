"""API keys (issue #25 item 1): create one (its secret shown once, on the answer to the
POST, never stored, never put in the session), list them by prefix, name and last use, revoke."""
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms.validators import InputRequired, Length

from ..core.domain import DomainError
from ..tenancy import api_keys
from ..tenancy.permissions import Permission
from ..web.form_fields import TrimmedField, show_errors
from . import bp
from .access import current_merchant, permission_required

MANAGE = Permission.MANAGE_API_KEYS


class KeyForm(FlaskForm):
    name = TrimmedField("Name", validators=[InputRequired(), Length(max=80)],
                        description="Which system uses it, e.g. “Shop backend”.")


class RevokeForm(FlaskForm):
    """CSRF token only."""


@bp.route("/api-keys", methods=["GET", "POST"])
@permission_required(MANAGE)
def api_keys_page():
    merchant = current_merchant()
    form = KeyForm()
    created = secret = None
    if form.validate_on_submit():
        try:
            created, secret = api_keys.create_key(merchant, form.name.data,
                                                  current_user._get_current_object())
        except DomainError as exc:
            show_errors(form, exc, default="name")
        else:
            form = KeyForm(formdata=None)
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
        flash(f"API key “{key.name}” ({key.prefix}…) revoked: it no longer works.", "success")
        return redirect(url_for("admin.api_keys_page"))
    return render_template("admin/api_key_revoke.html", key=key, form=form)
