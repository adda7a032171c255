"""Admin users and roles (T-2), for owners."""
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField
from wtforms.validators import InputRequired, Length

from ..core import validation
from ..core.domain import DomainError
from ..tenancy import admins, audit
from ..tenancy.permissions import PERMISSION_LABELS, ROLE_LABELS, ROLES, Permission
from ..web.form_fields import TrimmedEmailField, TrimmedField, select_choices, show_errors
from . import bp
from .access import current_merchant, permission_required

MANAGE = Permission.MANAGE_USERS


def _role_field():
    return SelectField("Role", choices=select_choices(ROLE_LABELS.items()),
                       validators=[InputRequired()])


class NewAdminForm(FlaskForm):
    email = TrimmedEmailField("Email", validators=[InputRequired(), Length(max=254),
                                            validation.wtf(validation.email_address)])
    name = TrimmedField("Name", validators=[Length(max=200)])
    role = _role_field()
    password = PasswordField("Initial password",
                             validators=[InputRequired(),
                                         Length(min=12, max=1024,
                                                message="Use 12 to 1024 characters.")],
                             description="At least 12 characters. Share it with them safely.",
                             render_kw={"autocomplete": "new-password"})


class ChangeAdminForm(FlaskForm):
    role = _role_field()
    active = SelectField("Access", choices=select_choices([("1", "Active"),
                                                           ("0", "Deactivated")]))


def _state(admin) -> dict:
    return {"role": admin.role, "active": admin.active}


def _audit(action, admin, before, after):
    audit.changed(current_user, action, audit.subject_of("admin_user", admin.id), before, after,
                  label=admin.email)


@bp.route("/users", methods=["GET", "POST"])
@permission_required(MANAGE)
def users():
    merchant = current_merchant()
    form = NewAdminForm()
    if form.validate_on_submit():
        try:
            admin = admins.add_admin(merchant, email=form.email.data, name=form.name.data or "",
                                     role=form.role.data, password=form.password.data)
        except DomainError as exc:
            show_errors(form, exc, default="email")
        else:  # the initial password is never recorded
            _audit("admin_user.invited", admin, None,
                   {"email": admin.email, "name": admin.name, "role": admin.role})
            flash(f"{admin.email} can now sign in as {ROLE_LABELS[admin.role]}.", "success")
            return redirect(url_for("admin.users"))
    people = admins.list_admins(merchant)
    change_forms = {a.id: ChangeAdminForm(prefix=f"u{a.id}", data={
        "role": a.role, "active": "1" if a.active else "0"}) for a in people}
    return render_template("admin/users.html", form=form, people=people,
                           change_forms=change_forms, roles=ROLES, role_labels=ROLE_LABELS,
                           permission_labels=PERMISSION_LABELS), 400 if form.errors else 200


@bp.post("/users/<id:admin_id>")
@permission_required(MANAGE)
def user_change(admin_id: int):
    admin = admins.get_admin(current_merchant(), admin_id)
    if admin is None:
        abort(404)
    form = ChangeAdminForm(prefix=f"u{admin.id}")
    if not form.validate_on_submit():
        flash("Choose a role and an access state from the lists.", "error")
        return redirect(url_for("admin.users"))
    before = _state(admin)
    try:
        admins.change_admin(current_user, admin, role=form.role.data,
                            active=form.active.data == "1")
    except DomainError as exc:
        for message in show_errors(None, exc):
            flash(message, "error")
    else:
        _audit("admin_user.changed", admin, before, _state(admin))
        flash(f"{admin.email} updated.", "success")
    return redirect(url_for("admin.users"))
