"""Customers in the admin (T-5): searchable list, create, edit, custom field values."""
from functools import lru_cache

from babel import Locale
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..core import validation
from ..core.domain import DomainError
from ..customers import duplicates, merge, portal_access, services
from ..customers import fields as field_service
from ..customers import forms as customer_forms
from ..tenancy import audit
from ..tenancy.permissions import Permission
from ..web.form_fields import TrimmedField, select_choices, show_errors
from ..web.request_guards import page_number
from . import bp
from .access import current_merchant, permission_required

MANAGE = Permission.MANAGE_CUSTOMERS


# Babel's territories that are not countries an address can be in (groupings, pseudo-locales).
NOT_COUNTRIES = {"ZZ", "EU", "EZ", "UN", "XA", "XB", "QO"}


@lru_cache(maxsize=1)
def _countries():
    territories = Locale("en").territories
    pairs = sorted(((code, name) for code, name in territories.items()
                    if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES),
                   key=lambda p: p[1])
    return [("", "—"), *pairs]


def _name_rule(minimum, what):
    return validation.wtf(lambda v: validation.person_name(v, minimum, what), optional=False)


class CustomerForm(FlaskForm):
    first_name = TrimmedField("First name", validators=[InputRequired(), Length(max=100),
                                                       _name_rule(2, "First name")])
    last_name = TrimmedField("Last name", validators=[InputRequired(), Length(max=100),
                                                     _name_rule(1, "Last name")])
    company = TrimmedField("Company", validators=[Optional(), Length(max=200)])
    primary_email = TextAreaField(
        "Primary Email", validators=[InputRequired(), Length(max=2000),
                                     validation.wtf(validation.primary_emails, optional=False)],
        description="One or more addresses, separated by commas or new lines. Every "
                    "notification goes to each of them.",
        render_kw={"rows": 2, "autocomplete": "off"})
    phone = TrimmedField("Phone", validators=[Optional(), Length(max=40),
                                             validation.wtf(validation.phone)],
                        render_kw={"type": "tel", "autocomplete": "off"})
    address_line1 = TrimmedField("Address line 1", validators=[Optional(), Length(max=200)])
    address_line2 = TrimmedField("Address line 2", validators=[Optional(), Length(max=200)])
    city = TrimmedField("City", validators=[Optional(), Length(max=100)])
    region = TrimmedField("State / region", validators=[Optional(), Length(max=100)])
    postal_code = TrimmedField("Postal code", validators=[Optional(), Length(max=20)])
    country = SelectField("Country", validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = select_choices(_countries())


def customer_form_class(definitions):
    """The customer form with one field per custom field definition (the shared builder: the
    widget's profile page makes its fields the same way)."""
    return customer_forms.with_custom_fields(CustomerForm, definitions)


def _form_data(customer, definitions):
    data = {name: getattr(customer, name) for name in services.PROFILE_FIELDS}
    data["primary_email"] = "\n".join(customer.primary_emails)
    data.update(customer_forms.initial_data(definitions, customer.custom_fields))
    return data


def snapshot(customer, definitions) -> dict:
    """What the audit log compares before and after an edit: the details, the Primary Email
    addresses and each custom field's value under its name."""
    values = customer.custom_fields or {}
    return {**{name: getattr(customer, name) or "" for name in services.PROFILE_FIELDS},
            "primary_email": list(customer.primary_emails),
            **{f"custom field “{d.name}”": values.get(str(d.id)) for d in definitions}}


def _audit(action, customer, before, after=None, **detail):
    audit.changed(current_user, action, audit.subject_of("customer", customer.id), before,
                  after, label=customer.display_name, **detail)


def _handle(customer=None):
    merchant = current_merchant()
    definitions = field_service.list_definitions(merchant)
    form_cls = customer_form_class(definitions)
    form = form_cls(data=_form_data(customer, definitions) if customer else None)
    if form.validate_on_submit():
        submitted = customer_forms.submitted_values(form, definitions)
        custom_values, errors = services.clean_custom_values(merchant, submitted)
        for key, message in errors.items():
            form[f"cf_{key}"].errors = [*form[f"cf_{key}"].errors, message]
        if not errors:
            details = {name: (form[name].data or "").strip() for name in services.PROFILE_FIELDS}
            details["first_name"] = validation.person_name(details["first_name"], 2, "First name")
            details["last_name"] = validation.person_name(details["last_name"], 1, "Last name")
            before = snapshot(customer, definitions) if customer else None
            try:
                saved = services.save_customer(
                    merchant, customer, details=details,
                    emails=validation.primary_emails(form.primary_email.data),
                    custom_values=custom_values)
            except DomainError as exc:  # the service's own rules (issue #19)
                form.form_errors.extend(show_errors(form, exc))
            else:
                _audit("customer.changed" if customer else "customer.created", saved, before,
                       snapshot(saved, definitions))
                flash(f"Customer “{saved.display_name}” {'saved' if customer else 'created'}.",
                      "success")
                return redirect(url_for("admin.customer_detail", customer_id=saved.id))
    template = "admin/customers/edit.html"
    portal = None
    if customer is not None:
        portal = {"state": portal_access.state(customer), "on": portal_access.portal_on(merchant),
                  "lock": portal_access.lock_note(merchant, customer),
                  "form": PortalForm(data={"username": customer.username or ""})}
    customer_invoices, customer_payments, audit_entries = [], [], []
    if customer is not None:
        audit_entries = audit.for_subject(merchant, audit.subject_of("customer", customer.id))
        from ..billing.invoices import list_for_merchant
        from ..billing.payment_history import history

        customer_invoices = list_for_merchant(merchant, customer.id, limit=20)
        customer_payments = history(merchant, customer, limit=20)
    return render_template(template, form=form, customer=customer, definitions=definitions,
                           portal=portal, customer_invoices=customer_invoices,
                           customer_payments=customer_payments, audit_entries=audit_entries), (
        400 if form.errors else 200)


@bp.get("/customers")
@permission_required(MANAGE)
def customers():
    query = request.args.get("q", "")[:200]
    archived = request.args.get("archived") == "1"
    page = services.search_customers(current_merchant(), query,
                                     page_number(request.args.get("page", type=int)),
                                     current_app.config["ADMIN_PAGE_SIZE"], archived=archived)
    hints = {} if archived else duplicates.likely_duplicates(  # one query (issue #23-5)
        current_merchant(), [c.id for c in page.items])
    return render_template("admin/customers/list.html", page=page, query=query,
                           archived=archived, hints=hints)


@bp.route("/customers/new", methods=["GET", "POST"])
@permission_required(MANAGE)
def customer_new():
    return _handle()


@bp.route("/customers/<id:customer_id>", methods=["GET", "POST"])
@permission_required(MANAGE)
def customer_detail(customer_id: int):
    merchant = current_merchant()
    customer = services.get_customer(merchant, customer_id)
    if customer is None:  # a record merged into another (W-10): its old URL leads there
        survivor = merge.survivor_of(merchant, customer_id) or abort(404)
        flash(f"Customer #{customer_id} was merged into “{survivor.display_name}”.", "info")
        return redirect(url_for("admin.customer_detail", customer_id=survivor.id))
    return _handle(customer)


class PortalForm(FlaskForm):
    username = TrimmedField("Username", validators=[Optional(), Length(max=150)],
                            render_kw={"autocomplete": "off", "autocapitalize": "none"})


# The Portal panel's actions in the audit log: those with a state compare it (the username);
# the others are events (an email sent). The temporary password itself is never recorded.
PORTAL_AUDIT = {"send-create": "credentials.create_email", "send-reset": "credentials.reset_email",
                "update-username": "credentials.username_changed",
                "delete-username": "credentials.username_deleted",
                "unlock": "credentials.unlocked",
                "temporary-password": "credentials.temporary_password"}

PORTAL_ACTIONS = {
    # action: (states it fits, what the admin is told)
    "send-create": (("no_username", "no_password"), "The Create Credentials email is queued."),
    "send-reset": (("active",), "The Reset Password email is queued."),
    "update-username": (("no_username", "no_password", "active"), "The username is saved."),
    "delete-username": (("no_password", "active"),
                        "The username is deleted: the customer is back to creating credentials."),
    "unlock": (("active",), "The account is unlocked."),
    "temporary-password": (("active",), "A temporary password is emailed to the customer."),
}
SENDS_PORTAL_LINKS = {"send-create", "send-reset", "temporary-password"}  # need the portal on


@bp.post("/customers/<id:customer_id>/portal/<action>")
@permission_required(MANAGE)
def customer_portal(customer_id: int, action: str):
    """The Portal panel (C-6): only the actions that fit the customer's state are accepted."""
    merchant = current_merchant()
    customer = services.get_customer(merchant, customer_id) or abort(404)
    states, done = PORTAL_ACTIONS.get(action) or abort(404)
    form = PortalForm()
    if not form.validate_on_submit():
        abort(400)
    if portal_access.state(customer) not in states:
        flash("That action does not fit this customer's portal access now.", "error")
        return redirect(url_for("admin.customer_detail", customer_id=customer.id))
    if action in SENDS_PORTAL_LINKS and not portal_access.portal_on(merchant):
        flash("The customer portal is switched off, so no portal email is sent. Switch it on "
              "under Configuration → Customer portal.", "error")
        return redirect(url_for("admin.customer_detail", customer_id=customer.id))
    before = {"username": customer.username}
    try:
        ok = {
            "send-create": lambda: portal_access.send_create_email(merchant, customer),
            "send-reset": lambda: portal_access.send_reset_email(merchant, customer),
            "update-username": lambda: portal_access.update_username(
                merchant, customer, form.username.data or "") or True,
            "delete-username": lambda: portal_access.delete_username(customer) or True,
            "unlock": lambda: portal_access.unlock(customer) or True,
            "temporary-password": lambda: portal_access.send_temporary_password(merchant,
                                                                                customer),
        }[action]()
    except DomainError as exc:
        for message in show_errors(None, exc):
            flash(message, "error")
    else:
        if ok:
            stateful = action in ("update-username", "delete-username")
            _audit(PORTAL_AUDIT[action], customer, before if stateful else None,
                   {"username": customer.username} if stateful else None)
            flash(done, "success")
        else:
            flash("That email is switched off (Configuration → Email notifications) or the "
                  "customer has no email address; nothing was sent.", "error")
    return redirect(url_for("admin.customer_detail", customer_id=customer.id) + "#portal-panel")


@bp.post("/customers/<id:customer_id>/delete")
@permission_required(MANAGE)
def customer_delete(customer_id: int):
    """Delete the customer, or archive one with money history (issue #18): their invoices and
    payments keep their customer."""
    customer = services.get_customer(current_merchant(), customer_id) or abort(404)
    if not PortalForm().validate_on_submit():
        abort(400)
    name = customer.display_name
    before = snapshot(customer, field_service.list_definitions(current_merchant()))
    if services.delete_customer(customer) == "deleted":
        _audit("customer.deleted", customer, before, None)
        flash(f"Customer “{name}” deleted.", "success")
        return redirect(url_for("admin.customers"))
    _audit("customer.archived", customer, {"archived": False}, {"archived": True})
    flash(f"Customer “{name}” archived: they have invoices or payments, which are kept. They "
          "no longer appear in the customer list and cannot sign in to the portal.", "success")
    return redirect(url_for("admin.customer_detail", customer_id=customer_id))
