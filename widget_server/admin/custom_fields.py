"""The merchant's custom field definitions (T-5, #24 item 4): add, rename, retype while unused,
require, reorder (buttons, so the keyboard does it), delete; every change audited."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.validators import InputRequired, Length

from ..core.domain import DomainError
from ..customers import fields as field_service
from ..customers.models import FIELD_TYPES
from ..tenancy import audit
from ..tenancy.permissions import Permission
from ..web.form_fields import TrimmedField, select_choices, show_errors
from . import bp
from .access import current_merchant, permission_required

MANAGE = Permission.MANAGE_CUSTOMERS
REQUIRED_HELP = ("Customers must have a value. Made required later, it is asked for at each "
                 "customer's next save; customers without a value keep working until then.")


class DefinitionForm(FlaskForm):
    name = TrimmedField("Field name", validators=[InputRequired(), Length(max=80)])
    field_type = SelectField("Type", choices=select_choices(FIELD_TYPES),
                             validators=[InputRequired()])
    choices = TrimmedField("Choices", validators=[Length(max=2000)],
                          description="For “Choice from a list”: the values, separated by "
                                      "commas.")
    required = BooleanField("Required", description=REQUIRED_HELP)


class ActionForm(FlaskForm):
    """CSRF token only."""


DeleteForm = ActionForm


def snapshot(definition) -> dict:
    """What the audit log compares before and after a change."""
    return {"name": definition.name, "type": definition.field_type,
            "required": definition.required, "choices": list(definition.choices or [])}


def _audit(action, definition, before, after):
    audit.changed(current_user, action, audit.subject_of("custom_field", definition.id),
                  before, after, label=definition.name)


def _definition_or_404(definition_id: int):
    return field_service.get_definition(current_merchant(), definition_id) or abort(404)


@bp.route("/custom-fields", methods=["GET", "POST"])
@permission_required(MANAGE)
def custom_fields():
    merchant = current_merchant()
    form = DefinitionForm()
    if form.validate_on_submit():
        try:
            definition = field_service.create_definition(
                merchant, name=form.name.data, field_type=form.field_type.data,
                required=form.required.data,
                choices=field_service.parse_choices(form.choices.data))
        except DomainError as exc:
            show_errors(form, exc, default="name")
        else:
            _audit("custom_field.created", definition, None, snapshot(definition))
            flash(f"Custom field “{definition.name}” added.", "success")
            return redirect(url_for("admin.custom_fields"))
    moved = (request.args.get("moved", type=int), request.args.get("way"))
    return render_template("admin/custom_fields.html", form=form,
                           definitions=field_service.list_definitions(merchant),
                           type_labels=dict(FIELD_TYPES), action_form=ActionForm(),
                           moved=moved), (
        400 if form.errors else 200)


@bp.route("/custom-fields/<id:definition_id>", methods=["GET", "POST"])
@permission_required(MANAGE)
def custom_field_edit(definition_id: int):
    """Rename, retype (only while no customer has a value), require, change the choices."""
    merchant = current_merchant()
    definition = _definition_or_404(definition_id)
    holders = field_service.customers_with_value(definition)
    form = DefinitionForm(data={"name": definition.name, "field_type": definition.field_type,
                                "choices": ", ".join(definition.choices or []),
                                "required": definition.required})
    if holders:  # the type is fixed: offer only it, and say why beside the field
        form.field_type.choices = select_choices(
            [(definition.field_type, dict(FIELD_TYPES)[definition.field_type])])
        form.field_type.description = (
            f"The type cannot change: {holders} customer{'s have' if holders != 1 else ' has'} "
            "a value for this field. Add a new field for another type.")
    if form.validate_on_submit():
        before = snapshot(definition)
        try:
            field_service.update_definition(
                merchant, definition, name=form.name.data, field_type=form.field_type.data,
                required=form.required.data,
                choices=field_service.parse_choices(form.choices.data))
        except DomainError as exc:
            show_errors(form, exc, default="name")
        else:
            _audit("custom_field.changed", definition, before, snapshot(definition))
            flash(f"Custom field “{definition.name}” saved.", "success")
            return redirect(url_for("admin.custom_fields"))
    return render_template("admin/custom_field_edit.html", form=form, definition=definition,
                           holders=holders), 400 if form.errors else 200


@bp.post("/custom-fields/<id:definition_id>/<any(up, down):direction>")
@permission_required(MANAGE)
def custom_field_move(definition_id: int, direction: str):
    """Move a field one place: the order of the customer form, the profile page and the
    profiles' Custom Field Parameters."""
    merchant = current_merchant()
    definition = _definition_or_404(definition_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    before = [d.name for d in field_service.list_definitions(merchant)]
    if field_service.move_definition(merchant, definition, -1 if direction == "up" else 1):
        after = [d.name for d in field_service.list_definitions(merchant)]
        _audit("custom_field.moved", definition, {"order": before}, {"order": after})
        flash(f"“{definition.name}” moved {direction}.", "success")
    # the keyboard stays on the field just moved: its button takes the focus again (and
    # scrolls it into view; Chromium ignores autofocus on an address with a #fragment)
    return redirect(url_for("admin.custom_fields", moved=definition.id, way=direction))


@bp.route("/custom-fields/<id:definition_id>/delete", methods=["GET", "POST"])
@permission_required(MANAGE)
def custom_field_delete(definition_id: int):
    definition = _definition_or_404(definition_id)
    form = DeleteForm()
    if form.validate_on_submit():
        _audit("custom_field.deleted", definition, snapshot(definition), None)
        field_service.delete_definition(definition)
        flash(f"Custom field “{definition.name}” deleted.", "success")
        return redirect(url_for("admin.custom_fields"))
    return render_template("admin/custom_field_delete.html", definition=definition, form=form)
