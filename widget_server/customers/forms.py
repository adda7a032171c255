"""One builder of customer forms, driven by the merchant's custom field definitions (T-5, P-3,
W-6; issue #18).

The admin's customer page and the widget's profile page both add their custom fields here, so a
field type looks and parses the same on every face: yes/no is a checkbox, the rest as before. The
widget passes the profile's modes: Read Write fields are editable, Read Only ones are shown and
ignore anything submitted for them, Hidden ones are left out. Values are checked by
`fields.clean_value`, the one strict parser the services (and the API later) call.
"""
from wtforms import BooleanField, SelectField

from ..core.domain import DomainError
from ..web.form_fields import TrimmedField, select_choices
from .fields import field_key, parse_yes_no

READ_ONLY, READ_WRITE, HIDDEN = "read_only", "read_write", "hidden"

HINTS = {"number": "A number, such as 42 or 3.5.", "date": "YYYY-MM-DD."}


class YesNoField(BooleanField):
    """A checkbox with checkbox semantics only: ticked ("y", "on", "true") is yes, absent is no,
    and anything else ("False", "no") is refused, never read as `bool("False")`."""

    def process_formdata(self, valuelist):
        self.data = False
        if valuelist:
            try:
                self.data = parse_yes_no(valuelist[0])
            except DomainError as exc:
                raise ValueError(str(exc)) from exc


def _read_only(cls):
    """`cls` showing its value and ignoring whatever is submitted for it."""

    def process_formdata(self, valuelist):
        return None

    return type(f"ReadOnly{cls.__name__}", (cls,), {"process_formdata": process_formdata})


ReadOnlyYesNoField = _read_only(YesNoField)
ReadOnlySelectField = _read_only(SelectField)
ReadOnlyStringField = _read_only(TrimmedField)


def custom_field(definition, mode: str = READ_WRITE):
    """The WTForms field for one definition, editable or read-only."""
    label, writable = definition.name, mode == READ_WRITE
    kw = {} if writable else {"readonly": True}
    if definition.field_type == "boolean":
        return (YesNoField if writable else ReadOnlyYesNoField)(
            label, render_kw={} if writable else {"disabled": True})
    if definition.field_type == "choice":
        if writable and definition.required:
            kw["required"] = True
        return (SelectField if writable else ReadOnlySelectField)(
            label, choices=select_choices([("", "—")] + [(c, c) for c in definition.choices]),
            validate_choice=False, render_kw=kw if writable else {"disabled": True})
    if definition.field_type == "date":
        kw["type"] = "date"
    elif definition.field_type == "number":
        kw["inputmode"] = "decimal"
    if writable and definition.required:
        kw["required"] = True
    return (TrimmedField if writable else ReadOnlyStringField)(
        label, description=HINTS.get(definition.field_type, "") if writable else "",
        render_kw=kw)


def visible_fields(definitions, modes: dict[str, str] | None = None) -> list[tuple]:
    """(definition, mode) for the fields a face shows: all of them Read Write without modes
    (the admin), else by the profile's mode, Hidden ones left out."""
    out = []
    for d in definitions:
        mode = READ_WRITE if modes is None else modes.get(str(d.id), READ_ONLY)
        if mode != HIDDEN:
            out.append((d, mode))
    return out


def with_custom_fields(base: type, definitions, modes: dict[str, str] | None = None) -> type:
    """`base` plus one field per visible custom field, named `cf_<definition id>`."""
    attrs = {field_key(d): custom_field(d, mode) for d, mode in visible_fields(definitions, modes)}
    return type(f"{base.__name__}WithCustomFields", (base,), attrs)


def initial_data(definitions, stored: dict | None) -> dict:
    """The form's starting values from a customer's stored custom fields."""
    stored = stored or {}
    data = {}
    for d in definitions:
        value = stored.get(str(d.id))
        if d.field_type == "boolean":
            data[field_key(d)] = value is True
        else:
            data[field_key(d)] = "" if value is None else str(value)
    return data


def submitted_values(form, definitions, modes: dict[str, str] | None = None) -> dict[str, object]:
    """{definition id: submitted value} for the fields this face may write (Read Write)."""
    return {str(d.id): form[field_key(d)].data
            for d, mode in visible_fields(definitions, modes) if mode == READ_WRITE}
