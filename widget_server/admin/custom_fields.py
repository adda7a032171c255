"""The merchant's custom field definitions (T-5)."""
from flask import abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.validators import InputRequired, Length

from ..core.domain import DomainError
from ..customers import fields as field_service
from ..customers.models import FIELD_TYPES
from ..tenancy.permissions import Permission
from ..web.form_fields import TrimmedField, select_choices, show_errors
from . import bp
from .access import current_merchant, permission_required

MANAGE = Permission.MANAGE_CUSTOMERS


class DefinitionForm(FlaskForm):
    name = TrimmedField("Field name", validators=[InputRequired(), Length(max=80)])
    field_type = SelectField("Type", choices=select_choices(FIELD_TYPES),
                             validators=[InputRequired()])
    choices = TrimmedField("Choices", validators=[Length(max=2000)],
                          description="For “Choice from a list”: the values, separated by "
                                      "commas.")
    required = BooleanField("Required", description="Customers must have a value.")


class DeleteForm(FlaskForm):
    """CSRF token only."""


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
            flash(f"Custom field “{definition.name}” added.", "success")
            return redirect(url_for("admin.custom_fields"))
    return render_template("admin/custom_fields.html", form=form,
                           definitions=field_service.list_definitions(merchant),
                           type_labels=dict(FIELD_TYPES)), 400 if form.errors else 200


@bp.route("/custom-fields/<id:definition_id>/delete", methods=["GET", "POST"])
@permission_required(MANAGE)
def custom_field_delete(definition_id: int):
    definition = field_service.get_definition(current_merchant(), definition_id)
    if definition is None:
        abort(404)
    form = DeleteForm()
    if form.validate_on_submit():
        field_service.delete_definition(definition)
        flash(f"Custom field “{definition.name}” deleted.", "success")
        return redirect(url_for("admin.custom_fields"))
    return render_template("admin/custom_field_delete.html", definition=definition, form=form)
