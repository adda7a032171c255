"""The customer's profile page (W-6, C-11, P-3): details, Primary Email, phone, address and
custom fields by the profile's mode; editing only when Allow Profile Edit is on."""
from flask import abort, flash, g, redirect, request, url_for
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from .. import validation
from ..customers import services
from ..customers.fields import FieldError, clean_value, list_definitions
from ..profiles.tabs import CUSTOMER
from . import bp
from .access import customer_required
from .rendering import render_widget


def _name_rule(minimum, what):
    return validation.wtf(lambda v: validation.person_name(v, minimum, what), optional=False)


class ProfileForm(FlaskForm):
    first_name = StringField("First name", validators=[InputRequired(), Length(max=100),
                                                       _name_rule(2, "First name")],
                             render_kw={"autocomplete": "given-name"})
    last_name = StringField("Last name", validators=[InputRequired(), Length(max=100),
                                                     _name_rule(1, "Last name")],
                            render_kw={"autocomplete": "family-name"})
    primary_email = TextAreaField(
        "Email addresses", validators=[InputRequired(), Length(max=2000),
                                       validation.wtf(validation.email_list, optional=False)],
        render_kw={"rows": 2, "autocomplete": "email"})
    phone = StringField("Phone", validators=[Optional(), Length(max=40),
                                             validation.wtf(validation.phone)],
                        render_kw={"type": "tel", "autocomplete": "tel"})
    address_line1 = StringField("Address", validators=[Optional(), Length(max=200)],
                                render_kw={"autocomplete": "address-line1"})
    address_line2 = StringField("Address line 2", validators=[Optional(), Length(max=200)],
                                render_kw={"autocomplete": "address-line2"})
    city = StringField("City", validators=[Optional(), Length(max=100)],
                       render_kw={"autocomplete": "address-level2"})
    postal_code = StringField("Postal code", validators=[Optional(), Length(max=20)],
                              render_kw={"autocomplete": "postal-code"})


EDITABLE = ("first_name", "last_name", "phone", "address_line1", "address_line2", "city",
            "postal_code")


def _modes():
    """(definition, mode) for the merchant's custom fields, as this profile shows them."""
    ctx_modes = CUSTOMER.load((g.profile.settings or {}).get(CUSTOMER.key),
                              _Ctx(list_definitions(g.merchant)))["custom_field_parameters"]
    return [(d, ctx_modes[str(d.id)]) for d in list_definitions(g.merchant)
            if ctx_modes[str(d.id)] != "hidden"]


class _Ctx:
    def __init__(self, custom_fields):
        self.custom_fields = custom_fields


@bp.route("/profile", methods=["GET", "POST"])
@customer_required
def profile():
    customer = g.customer
    editable = g.profile.customer.allow_profile_edit
    if request.method == "POST" and not editable:
        abort(403)  # P-8: refused on the server, not only hidden
    fields = _modes()
    form = ProfileForm(data={"first_name": customer.first_name,
                             "last_name": customer.last_name,
                             "primary_email": "\n".join(customer.primary_emails),
                             "phone": customer.phone, "address_line1": customer.address_line1,
                             "address_line2": customer.address_line2, "city": customer.city,
                             "postal_code": customer.postal_code})
    custom_errors, custom_input = {}, {}
    if editable and form.validate_on_submit():
        if g.profile.customer.phone_number_required and not (form.phone.data or "").strip():
            form.phone.errors.append("Enter your phone number.")
        values = dict(customer.custom_fields or {})
        for definition, mode in fields:
            if mode != "read_write":
                continue
            raw = request.form.get(f"cf_{definition.id}", "")
            custom_input[definition.id] = raw
            try:
                values[str(definition.id)] = clean_value(definition, raw)
            except FieldError as exc:
                custom_errors[definition.id] = str(exc)
        if not form.phone.errors and not custom_errors:
            details = {name: (form[name].data or "").strip() for name in EDITABLE}
            details["first_name"] = validation.person_name(details["first_name"], 2, "")
            details["last_name"] = validation.person_name(details["last_name"], 1, "")
            services.save_customer(g.merchant, customer, details=details,
                                   emails=validation.email_list(form.primary_email.data),
                                   custom_values=values)
            flash("Your details are saved.", "success")
            return redirect(url_for(".profile"))
    errors = bool(form.errors or custom_errors)
    return render_widget("widget/profile.html", form=form, editable=editable, fields=fields,
                         custom_errors=custom_errors, custom_input=custom_input,
                         phone_required=g.profile.customer.phone_number_required,
                         status=400 if errors else 200)
