"""Custom field definitions (T-5) and the checking of customers' values against them."""
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..core.domain import DomainError
from ..core.extensions import db
from ..core.i18n import gettext as _
from ..core.validation import is_single_line, require_single_line, single_line_message
from .models import FIELD_TYPES, Customer, CustomFieldDefinition

TYPE_KEYS = {key for key, _label in FIELD_TYPES}


def field_key(definition) -> str:
    """The name of a custom field's value on every face: form fields and service errors."""
    return f"cf_{definition.id}"


# What a ticked checkbox sends (WTForms "y", browsers' default "on") or a JSON-minded client.
YES_VALUES = frozenset({"y", "on", "true"})


def parse_yes_no(raw) -> bool:
    """Checkbox semantics, strictly: True or a ticked box's value is yes; absent (None, "") or
    False is no; anything else ("False", "no", "0") is refused rather than guessed, so an
    unchanged page can never turn a no into a yes (issue #18)."""
    if raw is True or (isinstance(raw, str) and raw in YES_VALUES):
        return True
    if raw is None or raw is False or raw == "":
        return False
    raise DomainError(_("Tick the box for yes, leave it empty for no."))


def list_definitions(merchant) -> list[CustomFieldDefinition]:
    return list(db.session.scalars(
        select(CustomFieldDefinition).where(CustomFieldDefinition.merchant_id == merchant.id)
        .order_by(CustomFieldDefinition.position, CustomFieldDefinition.id)))


def get_definition(merchant, definition_id: int) -> CustomFieldDefinition | None:
    return db.session.scalar(select(CustomFieldDefinition).where(
        CustomFieldDefinition.merchant_id == merchant.id,
        CustomFieldDefinition.id == definition_id))


def parse_choices(raw: str) -> list[str]:
    out = []
    for part in re.split(r"[,\n]+", raw or ""):
        part = part.strip()
        if part and part not in out:
            out.append(part[:80])
    return out


def _check_definition(merchant, *, name: str, field_type: str, required: bool,
                      choices: list[str], exclude_id: int | None = None) -> str:
    """The rules a definition meets whether new or edited; returns the trimmed name."""
    name = (name or "").strip()
    if not name:
        raise DomainError("Enter a field name.", "name")
    require_single_line(name=name, choices="".join(choices or []))
    if field_type not in TYPE_KEYS:
        raise DomainError("Choose a field type from the list.", "field_type")
    if field_type == "boolean" and required:
        raise DomainError("A yes/no field cannot be required: “no” is an answer too.", "required")
    if field_type == "choice" and not choices:
        raise DomainError("List at least one choice, separated by commas.", "choices")
    stmt = select(CustomFieldDefinition.id).where(
        CustomFieldDefinition.merchant_id == merchant.id,
        func.lower(CustomFieldDefinition.name) == name.lower())
    if exclude_id is not None:
        stmt = stmt.where(CustomFieldDefinition.id != exclude_id)
    if db.session.scalar(stmt):
        raise DomainError(f"A custom field named “{name}” already exists.", "name")
    return name


def _flush_named(name: str) -> None:
    try:
        db.session.flush()
    except IntegrityError as exc:  # two admins naming two fields alike at once
        db.session.rollback()
        raise DomainError(f"A custom field named “{name}” already exists.", "name") from exc


def create_definition(merchant, *, name: str, field_type: str, required: bool,
                      choices: list[str]) -> CustomFieldDefinition:
    name = _check_definition(merchant, name=name, field_type=field_type, required=required,
                             choices=choices)
    position = db.session.scalar(select(func.coalesce(func.max(CustomFieldDefinition.position), 0))
                                 .where(CustomFieldDefinition.merchant_id == merchant.id)) + 1
    definition = CustomFieldDefinition(merchant_id=merchant.id, name=name, field_type=field_type,
                                       required=required,
                                       choices=choices if field_type == "choice" else [],
                                       position=position)
    db.session.add(definition)
    _flush_named(name)
    return definition


def _stored_value(definition):
    """A customer's stored value of this field as SQL text; NULL when the customer has none."""
    return Customer.custom_fields[str(definition.id)].as_string()


def customers_with_value(definition) -> int:
    """How many of the merchant's customers hold a value (a yes/no field's "no" is one)."""
    return db.session.scalar(select(func.count(Customer.id)).where(
        Customer.merchant_id == definition.merchant_id,
        _stored_value(definition).is_not(None))) or 0


def update_definition(merchant, definition: CustomFieldDefinition, *, name: str,
                      field_type: str, required: bool, choices: list[str]) -> None:
    """Rename, retype, require or relist a field (#24 item 4). Values are keyed by the field's
    id, so a renamed field keeps them. The type changes only while no customer has a value
    (a "42" is no date); a choice some customer holds stays in the list. Made required, the
    field is asked for at each customer's next save: customers without a value keep working."""
    name = _check_definition(merchant, name=name, field_type=field_type, required=required,
                             choices=choices, exclude_id=definition.id)
    if field_type != definition.field_type:
        holders = customers_with_value(definition)
        if holders:
            raise DomainError(
                f"The type stays “{dict(FIELD_TYPES)[definition.field_type]}”: "
                f"{holders} customer{'s have' if holders != 1 else ' has'} a value for this "
                "field. Add a new field of the other type instead.", "field_type")
    if field_type == "choice":
        dropped = set(definition.choices or []) - set(choices) \
            if definition.field_type == "choice" else set()
        in_use = sorted(dropped & set(db.session.scalars(
            select(_stored_value(definition)).where(
                Customer.merchant_id == definition.merchant_id).distinct()))) if dropped else []
        if in_use:
            raise DomainError("Customers hold " + ", ".join(f"“{c}”" for c in in_use) +
                              ": keep these choices, or change those customers first.",
                              "choices")
    definition.name, definition.field_type, definition.required = name, field_type, required
    definition.choices = choices if field_type == "choice" else []
    _flush_named(name)


def move_definition(merchant, definition: CustomFieldDefinition, offset: int) -> bool:
    """Move a field one place up (-1) or down (+1) in the order every face shows; False at
    either end. Positions are renumbered 1…n, so older rows with equal positions sort too."""
    ordered = list_definitions(merchant)
    index = next(i for i, d in enumerate(ordered) if d.id == definition.id)
    target = index + offset
    if offset not in (-1, 1) or not 0 <= target < len(ordered):
        return False
    ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, each in enumerate(ordered, start=1):
        each.position = position
    db.session.flush()
    return True


def delete_definition(definition) -> None:
    db.session.delete(definition)
    db.session.flush()


def clean_value(definition: CustomFieldDefinition, raw) -> object:
    """A submitted value, typed for storage; raises DomainError with the message for the field.

    Empty input is None, refused only when the definition is required.
    """
    if definition.field_type == "boolean":
        return parse_yes_no(raw)
    text = ("" if raw is None else str(raw)).strip()
    if not text:
        if definition.required:
            raise DomainError(_("%(field)s is required.", field=definition.name))
        return None
    if not is_single_line(text):  # every type is one line of text (issue #19-11)
        raise DomainError(single_line_message())
    if definition.field_type == "text":
        if len(text) > 500:
            raise DomainError(_("Use at most %(num)d characters.", num=500))
        return text
    if definition.field_type == "number":
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:
            raise DomainError(_("Enter a number, such as 42 or 3.5.")) from None
        if not number.is_finite() or abs(number) >= Decimal("1e15"):
            raise DomainError(_("Enter a number, such as 42 or 3.5."))
        return str(number.normalize()) if number != number.to_integral() else str(int(number))
    if definition.field_type == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise DomainError(_("Enter a date as YYYY-MM-DD.")) from None
    if definition.field_type == "choice":
        if text not in definition.choices:
            raise DomainError(_("Choose one of the listed values."))
        return text
    raise DomainError("Unknown field type.")
