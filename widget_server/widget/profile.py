"""The customer's profile page (W-6, C-11, P-3): details, Primary Email, phone, address and
custom fields by the profile's mode; editing only when Allow Profile Edit is on."""
from flask import flash, g, redirect, url_for
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..core import validation
from ..core.domain import DomainError
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..customers import forms as customer_forms
from ..customers import services
from ..customers.fields import list_definitions
from ..web.form_fields import TrimmedField, show_errors
from . import bp
from .rendering import render_widget


def _name_rule(minimum, what):
    return validation.wtf(lambda v: validation.person_name(v, minimum, what), optional=False)


class ProfileForm(FlaskForm):
    first_name = TrimmedField(_l("First name"), validators=[InputRequired(), Length(max=100),
                                                            _name_rule(2, _l("First name"))],
                              render_kw={"autocomplete": "given-name"})
    last_name = TrimmedField(_l("Last name"), validators=[InputRequired(), Length(max=100),
                                                          _name_rule(1, _l("Last name"))],
                             render_kw={"autocomplete": "family-name"})
    primary_email = TextAreaField(
        _l("Email addresses"),
        validators=[InputRequired(), Length(max=2000),
                    validation.wtf(validation.primary_emails, optional=False)],
        render_kw={"rows": 2, "autocomplete": "email"})
    phone = TrimmedField(_l("Phone"), validators=[Optional(), Length(max=40),
                                                  validation.wtf(validation.phone)],
                         render_kw={"type": "tel", "autocomplete": "tel"})
    address_line1 = TrimmedField(_l("Address"), validators=[Optional(), Length(max=200)],
                                 render_kw={"autocomplete": "address-line1"})
    address_line2 = TrimmedField(_l("Address line 2"), validators=[Optional(), Length(max=200)],
                                 render_kw={"autocomplete": "address-line2"})
    city = TrimmedField(_l("City"), validators=[Optional(), Length(max=100)],
                        render_kw={"autocomplete": "address-level2"})
    postal_code = TrimmedField(_l("Postal code"), validators=[Optional(), Length(max=20)],
                               render_kw={"autocomplete": "postal-code"})


EDITABLE = ("first_name", "last_name", "phone", "address_line1", "address_line2", "city",
            "postal_code")


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    """Build the form (custom fields by the profile's modes), hand what was typed to
    `update_profile`, which owns the rules, and show its messages beside their fields."""
    customer, merchant = g.customer, g.merchant
    editable = g.profile.customer.allow_profile_edit  # a POST without it: refused (capabilities)
    definitions = list_definitions(merchant)
    modes = services.profile_field_modes(g.profile, definitions)
    form_cls = customer_forms.with_custom_fields(ProfileForm, definitions, modes)
    form = form_cls(data={"first_name": customer.first_name,
                          "last_name": customer.last_name,
                          "primary_email": "\n".join(customer.primary_emails),
                          "phone": customer.phone, "address_line1": customer.address_line1,
                          "address_line2": customer.address_line2, "city": customer.city,
                          "postal_code": customer.postal_code,
                          **customer_forms.initial_data(definitions, customer.custom_fields)})
    if editable and form.validate_on_submit():
        try:
            services.update_profile(
                merchant, g.profile, customer,
                details={name: form[name].data or "" for name in EDITABLE},
                emails=form.primary_email.data or "",
                custom_input=customer_forms.submitted_values(form, definitions, modes))
        except DomainError as exc:  # a rule about no single field: at the top of the form
            form.form_errors.extend(show_errors(form, exc))
        else:
            flash(_("Your details are saved."), "success")
            return redirect(url_for(".profile"))
    return render_widget("widget/profile.html", form=form, editable=editable,
                         fields=customer_forms.visible_fields(definitions, modes),
                         phone_required=g.profile.customer.phone_number_required,
                         status=400 if form.errors else 200)
