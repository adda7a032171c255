"""Customer services: search, create, edit and delete, always within one merchant (T-5, C-2,
W-6)."""
from dataclasses import dataclass
from types import SimpleNamespace

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..core import events, validation
from ..core.database import utcnow
from ..core.domain import DomainError
from ..core.extensions import db
from ..core.i18n import gettext as _
from . import portal_sessions
from .fields import clean_value, field_key, list_definitions
from .matching import fold
from .models import CredentialToken, Customer, CustomerEmail

PROFILE_FIELDS = ("first_name", "last_name", "company", "phone", "address_line1",
                  "address_line2", "city", "region", "postal_code", "country")


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def matches(merchant, query: str):
    """The condition "this customer's name, company, username or any Primary Email address
    contains `query`", accents and case aside (issue #24 item 2): "lukas" finds
    "Łukasiewicz". Reads the folded `search_text` column, so it is the same LIKE on SQLite and
    PostgreSQL; the other lists (invoices, payments) filter by customer with it too."""
    folded = fold(query)
    lowered = (query or "").strip().lower()
    email_match = select(CustomerEmail.customer_id).where(
        CustomerEmail.merchant_id == merchant.id,
        or_(CustomerEmail.address.contains(lowered, autoescape=True),
            CustomerEmail.address.contains(folded, autoescape=True)))
    return or_(Customer.search_text.contains(folded, autoescape=True),
               Customer.id.in_(email_match))


def listed(merchant, query: str = "", *, archived: bool = False):
    """The customers the admin's list shows (current, or archived), matching `query`: the
    statement the list pages and the CSV export share."""
    stmt = select(Customer).where(Customer.merchant_id == merchant.id,
                                  Customer.merged_into_id.is_(None),  # merged: in no list
                                  Customer.archived_at.is_not(None) if archived
                                  else Customer.archived_at.is_(None))
    query = (query or "").strip()
    return stmt.where(matches(merchant, query)) if query else stmt


def search_customers(merchant, query: str = "", page: int = 1, per_page: int = 25, *,
                     archived: bool = False) -> Page:
    """Customers whose name, company or any Primary Email address contains `query`: the
    current ones, or with `archived` the archived ones."""
    stmt = listed(merchant, query, archived=archived).options(
        selectinload(Customer.emails))  # the list shows every address
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    page = max(1, page)
    items = db.session.scalars(stmt.order_by(Customer.last_name, Customer.first_name,
                                             Customer.id)
                               .limit(per_page).offset((page - 1) * per_page)).all()
    return Page(list(items), total, page, per_page)


def _matching(merchant, query: str, archived: bool = False):
    """The merchant's current (or archived) customers matching `query`, emails loaded."""
    return listed(merchant, query, archived=archived).options(
        selectinload(Customer.emails))  # the list shows every address (folded search, #24)


def customers_after(merchant, query: str = "", *, limit: int = 10,
                    starting_after: int | None = None) -> tuple[list[Customer], bool]:
    """A page of the search in id order after the customer `starting_after` (a cursor: pages
    stay stable while customers are added), and whether more follow."""
    stmt = _matching(merchant, query)
    if starting_after is not None:
        stmt = stmt.where(Customer.id > starting_after)
    rows = list(db.session.scalars(stmt.order_by(Customer.id).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def check_details(details: dict) -> dict:
    """A client's profile details (the API's; the admin's form checks the same), cleaned:
    names as C-11 says, a valid phone, one line each. Raises every failure at once (422)."""
    clean, errors = {}, {}
    for name, value in details.items():
        value = value or ""
        try:
            validation.single_line(value)  # before split() hides a line break (issue #19-11)
            value = " ".join(value.split())
            if name == "first_name":
                value = validation.person_name(value, 2, "First name")
            elif name == "last_name":
                value = validation.person_name(value, 1, "Last name")
            elif name == "phone" and value:
                value = validation.phone(value)
            elif name == "country":
                value = value.upper()
        except ValueError as exc:
            errors[name] = str(exc)
        clean[name] = value
    if errors:
        raise DomainError.invalid(errors, status=422)
    return clean


def custom_values_by_name(merchant, submitted: dict, current: dict | None = None) -> dict:
    """Custom field values named by their definitions' names (the API's way), checked and
    keyed by definition id as stored, over the `current` ones. Raises 422 naming
    `custom_fields.<name>` for an unknown field or a refused value."""
    definitions = {d.name: d for d in list_definitions(merchant)}
    values = {k: v for k, v in (current or {}).items()
              if k in {str(d.id) for d in definitions.values()}}
    errors = {}
    for name, raw in submitted.items():
        definition = definitions.get(name)
        if definition is None:
            errors[f"custom_fields.{name}"] = "No custom field has this name."
            continue
        try:
            values[str(definition.id)] = clean_value(definition, raw)
        except DomainError as exc:
            errors[f"custom_fields.{name}"] = exc.message
    for definition in definitions.values():  # a required field must have a value
        if definition.required and values.get(str(definition.id)) in (None, "") \
                and f"custom_fields.{definition.name}" not in errors:
            errors[f"custom_fields.{definition.name}"] = f"{definition.name} is required."
    if errors:
        raise DomainError.invalid(errors, status=422)
    return values


def custom_values_named(merchant, customer: Customer, definitions=None) -> dict:
    """The customer's custom field values under their definitions' names."""
    definitions = list_definitions(merchant) if definitions is None else definitions
    stored = customer.custom_fields or {}
    return {d.name: stored.get(str(d.id)) for d in definitions}


def get_customer(merchant, customer_id: int, *, merged: bool = False) -> Customer | None:
    """The merchant's customer; a record merged into another (W-10) only with `merged`."""
    stmt = select(Customer).where(Customer.merchant_id == merchant.id, Customer.id == customer_id)
    if not merged:
        stmt = stmt.where(Customer.merged_into_id.is_(None))
    return db.session.scalar(stmt)


def clean_custom_values(merchant, submitted: dict) -> tuple[dict, dict[str, str]]:
    """Check submitted custom field values against the merchant's definitions.

    Returns (values keyed by definition id, errors keyed by definition id).
    """
    values, errors = {}, {}
    for definition in list_definitions(merchant):
        key = str(definition.id)
        try:
            values[key] = clean_value(definition, submitted.get(key))
        except DomainError as exc:
            errors[key] = str(exc)
    return values, errors


def save_customer(merchant, customer: Customer | None, *, details: dict, emails: list[str],
                  custom_values: dict, awaiting_purchase: bool = False) -> Customer:
    """Create (customer=None) or update a customer with already-validated input. A customer
    made by a guest checkout is created `awaiting_purchase`: offered the portal only once an
    order is paid (an address proven and left is not invited).

    Whatever the caller checked, the Primary Email keeps at least one valid address (C-2,
    issue #19-8): without one the customer gets no receipts and cannot reset a password."""
    try:
        emails = validation.primary_emails(emails)
    except ValueError as exc:
        raise DomainError(str(exc), "primary_email") from exc
    # every detail is one line (names and addresses reach emails and PDFs; issue #19-11)
    validation.require_single_line(**{name: details.get(name) for name in PROFILE_FIELDS})
    created = customer is None
    if created:
        customer = Customer(merchant_id=merchant.id, custom_fields={})
        db.session.add(customer)
    for name in PROFILE_FIELDS:
        if name in details:
            setattr(customer, name, details[name] or "")
    # Only the current definitions' values are kept: a deleted field's value goes with it.
    customer.custom_fields = dict(custom_values)
    _set_emails(customer, emails)
    if created:  # its subscribers may invite the customer to set up (C-5)
        db.session.flush()
        events.record(merchant, "customer.created", customer_id=customer.id,
                      **({"awaiting_purchase": True} if awaiting_purchase else {}))
    db.session.flush()
    return customer


# What a customer may change on the profile page (W-6), with the columns' lengths.
SELF_EDITABLE = {"first_name": 100, "last_name": 100, "phone": 40, "address_line1": 200,
                 "address_line2": 200, "city": 100, "postal_code": 20}


def profile_field_modes(profile, definitions) -> dict[str, str]:
    """{definition id: read_only | read_write | hidden} for the merchant's custom fields, as the
    profile's Custom Field Parameters set them (P-3); a field added since reads as Read Only."""
    from ..profiles.tabs import CUSTOMER

    ctx = SimpleNamespace(custom_fields=list(definitions))
    return CUSTOMER.load((profile.settings or {}).get(CUSTOMER.key),
                         ctx)["custom_field_parameters"]


def update_profile(merchant, profile, customer: Customer, *, details: dict,
                   emails: str | list[str] | None = None,
                   custom_input: dict | None = None) -> Customer:
    """A customer edits their own details through `profile` (W-6, C-11, P-3, P-8).

    The rules live here, not in a page: Allow Profile Edit, names (C-11), a valid Primary Email,
    the phone (required when the profile says so), and each custom field by its mode: Read Write
    values are parsed strictly by type, Read Only and Hidden ones are never written from here
    whatever is submitted. A detail left out of `details` keeps its value, and so do the
    emails and the custom fields when `emails` / `custom_input` is None; within `custom_input`,
    a Read Write field left out is empty (a yes/no one is no: an unticked box sends nothing).
    Raises DomainError with {field: message} for every failure at once (custom fields under
    `cf_<id>`); nothing is saved then.
    """
    if not profile.customer.allow_profile_edit:
        raise DomainError(_("This portal does not let you edit your details."),
                          code="profile_edit_off", status=403)
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    for key in details:
        if key not in SELF_EDITABLE:
            errors[str(key)] = _("This detail cannot be changed here.")
    for key, limit in SELF_EDITABLE.items():
        if key not in details:
            continue
        value = details[key] if details[key] is not None else ""
        if not isinstance(value, str):
            errors[key] = _("Must be text.")
            continue
        try:
            validation.single_line(value)  # before split() hides a line break (issue #19-11)
            value = " ".join(value.split())
            if len(value) > limit:
                raise ValueError(_("Use at most %(num)d characters.", num=limit))
            if key == "first_name":
                value = validation.person_name(value, 2, _("First name"))
            elif key == "last_name":
                value = validation.person_name(value, 1, _("Last name"))
            elif key == "phone" and value:
                value = validation.phone(value)
        except ValueError as exc:
            errors[key] = str(exc)
        clean[key] = value
    if profile.customer.phone_number_required and not clean.get("phone", customer.phone) \
            and "phone" not in errors:
        errors["phone"] = _("Enter your phone number.")
    addresses = customer.primary_emails
    if emails is not None:
        try:
            addresses = validation.primary_emails(emails)
        except ValueError as exc:
            errors["primary_email"] = str(exc)
    definitions = list_definitions(merchant)
    modes = profile_field_modes(profile, definitions)
    values = dict(customer.custom_fields or {})
    for definition in definitions:
        key = str(definition.id)
        if modes.get(key) != "read_write":
            continue  # Read Only and Hidden: shown or not, never written by the customer
        try:
            if custom_input is not None:
                values[key] = clean_value(definition, custom_input.get(key))
        except DomainError as exc:
            errors[field_key(definition)] = str(exc)
    if errors:
        raise DomainError.invalid(errors, _("Please correct the marked fields."),
                                  code="invalid_profile")
    # Values of deleted definitions go, as on the admin's save.
    current = {str(d.id) for d in definitions}
    return save_customer(merchant, customer, details=clean, emails=addresses,
                         custom_values={k: v for k, v in values.items() if k in current})


def _set_emails(customer: Customer, addresses: list[str]) -> None:
    """Replace the Primary Email list, keeping the order given."""
    wanted = [a.lower() for a in addresses]
    by_address = {e.address: e for e in customer.emails}
    customer.emails = [by_address.get(a) or CustomerEmail(address=a,
                                                          merchant_id=customer.merchant_id)
                       for a in wanted]
    for position, email in enumerate(customer.emails):
        email.position = position
        email.merchant_id = customer.merchant_id


def has_money_history(customer: Customer) -> bool:
    """Invoices, payments, saved payment methods or orders: rows that must keep their customer
    (their foreign keys refuse its deletion)."""
    from ..billing.models import Invoice, Payment, PaymentMethod
    from ..commerce.models import Order

    return db.session.scalar(select(or_(*(
        exists().where(model.merchant_id == customer.merchant_id,
                       model.customer_id == customer.id)
        for model in (Invoice, Payment, PaymentMethod, Order))))) or False


def delete_customer(customer: Customer) -> str:
    """Delete a customer without money history; archive one with it. Returns "deleted" or
    "archived". An invoice made meanwhile makes the delete fail (ON DELETE RESTRICT): then the
    customer is archived as well."""
    if not has_money_history(customer):
        db.session.delete(customer)  # emails, sessions and links go with it
        try:
            db.session.flush()
            return "deleted"
        except IntegrityError:
            db.session.rollback()
    archive_customer(customer)
    return "archived"


def archive_customer(customer: Customer) -> None:
    """Out of the default lists and out of the portal: open links and sessions end now."""
    now = utcnow()
    customer.archived_at = customer.archived_at or now
    db.session.execute(update(CredentialToken).where(CredentialToken.customer_id == customer.id,
                                                     CredentialToken.used_at.is_(None))
                       .values(used_at=now))
    portal_sessions.end_all(customer)  # commits
