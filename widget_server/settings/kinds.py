"""The kinds of setting: how each is stored, loaded, shown as form fields and read back.

A kind turns stored JSON into a typed value (falling back to the default when the stored value no
longer fits, e.g. a removed choice), builds its WTForms field(s), and reads the value back from a
submitted form. The authority on what is valid is `clean(setting, value, ctx)`: plain Python that
returns the typed value or raises `ValueError` with the message a person sees. `Group.clean` calls
it for every writer (the admin form, the API, imports) and `Group.load` for every value read back;
the fields' WTForms validators only repeat the rules for the form's UX (issue #18).
"""
import re
from dataclasses import dataclass, field
from typing import Any

from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField
from wtforms.fields import TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from ..core import validation
from ..web.form_fields import TrimmedField, TrimmedURLField, select_choices

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class Kind:
    """Base: one form field named after the setting's key."""

    # True when the setting is several controls shown together under one legend.
    grouped = False
    # True when the stored value is a media reference the admin page can show.
    is_image = False

    def make_field(self, setting, ctx):
        raise NotImplementedError

    def fields(self, setting, ctx) -> dict[str, Any]:
        return {setting.key: self.make_field(setting, ctx)}

    def form_data(self, setting, value, ctx) -> dict[str, Any]:
        return {setting.key: value}

    def from_form(self, setting, form, ctx) -> Any:
        return form[setting.key].data

    def load(self, setting, raw, ctx) -> Any:
        return raw

    def clean(self, setting, value, ctx) -> Any:
        """The typed value to store, or ValueError with the message for the field."""
        raise NotImplementedError

    def field_names(self, setting, ctx) -> list[str]:
        return [setting.key]


@dataclass(frozen=True)
class Boolean(Kind):
    def make_field(self, setting, ctx):
        return BooleanField(setting.label, description=setting.help)

    def load(self, setting, raw, ctx):
        return raw if isinstance(raw, bool) else setting.default

    def clean(self, setting, value, ctx):
        if not isinstance(value, bool):  # "False" is a string, not no
            raise ValueError("Must be true or false.")
        return value


@dataclass(frozen=True)
class Choice(Kind):
    choices: tuple[tuple[str, str], ...]

    def make_field(self, setting, ctx):
        return SelectField(setting.label, choices=select_choices(self.choices),
                           description=setting.help, validators=[InputRequired()])

    def load(self, setting, raw, ctx):
        return raw if raw in {value for value, _ in self.choices} else setting.default

    def clean(self, setting, value, ctx):
        allowed = [v for v, _ in self.choices]
        if not isinstance(value, str) or value not in allowed:
            raise ValueError(f"Choose one of: {', '.join(allowed)}.")
        return value


class _CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


@dataclass(frozen=True)
class MultiChoice(Kind):
    """Several of a fixed set, shown as checkboxes; `minimum` of them must be picked."""

    choices: tuple[tuple[str, str], ...]
    minimum: int = 0
    grouped = True

    def make_field(self, setting, ctx):
        validators = []
        if self.minimum:
            validators.append(_at_least(self.minimum))
        return _CheckboxList(setting.label, choices=select_choices(self.choices),
                             description=setting.help, validators=validators)

    def from_form(self, setting, form, ctx):
        picked = set(form[setting.key].data or [])
        return [value for value, _ in self.choices if value in picked]

    def load(self, setting, raw, ctx):
        if not isinstance(raw, list):
            return list(setting.default)
        allowed = {value for value, _ in self.choices}
        return [value for value in raw if value in allowed]

    def clean(self, setting, value, ctx):
        """The picked values in declaration order; an unknown one is refused, not dropped."""
        allowed = [v for v, _ in self.choices]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"Give a list of: {', '.join(allowed)}.")
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise ValueError(f"“{unknown[0][:40]}” is not a valid choice; choose from: "
                             f"{', '.join(allowed)}.")
        if len(set(value)) < self.minimum:
            raise ValueError(_at_least_message(self.minimum))
        return [v for v in allowed if v in value]


def _at_least(minimum):
    from wtforms.validators import ValidationError

    def check(form, field):
        if len(field.data or []) < minimum:
            raise ValidationError(_at_least_message(minimum))

    return check


def _at_least_message(minimum: int) -> str:
    return "Pick at least one." if minimum == 1 else f"Pick at least {minimum}."


def _text(value, max_length: int) -> str:
    if not isinstance(value, str):
        raise ValueError("Must be text.")
    value = value.strip()
    if len(value) > max_length:
        raise ValueError(f"Use at most {max_length} characters.")
    return value


@dataclass(frozen=True)
class Text(Kind):
    max_length: int = 200
    multiline: bool = False
    required: bool = False

    def make_field(self, setting, ctx):
        validators = [InputRequired() if self.required else Optional(),
                      Length(max=self.max_length)]
        cls = TextAreaField if self.multiline else TrimmedField
        return cls(setting.label, description=setting.help, validators=validators,
                   render_kw={"maxlength": self.max_length})

    def from_form(self, setting, form, ctx):
        return (form[setting.key].data or "").strip()

    def load(self, setting, raw, ctx):
        return raw if isinstance(raw, str) else setting.default

    def clean(self, setting, value, ctx):
        value = _text(value, self.max_length)
        if not self.multiline:  # a subject, an account id: never a line break (issue #19-11)
            validation.single_line(value)
        if self.required and not value:
            raise ValueError("This field is required.")
        return value


@dataclass(frozen=True)
class Url(Kind):
    """An https URL (http only for loopback hosts, T-3); empty means unset."""

    max_length: int = 2000

    def make_field(self, setting, ctx):
        return TrimmedURLField(setting.label, description=setting.help,
                               validators=[Optional(), Length(max=self.max_length),
                                           validation.wtf(validation.secure_url)],
                               render_kw={"maxlength": self.max_length,
                                          "placeholder": "https://"})

    def from_form(self, setting, form, ctx):
        return (form[setting.key].data or "").strip()

    def load(self, setting, raw, ctx):
        return raw if isinstance(raw, str) else setting.default

    def clean(self, setting, value, ctx):
        """Empty (unset) or a safe https URL; `javascript:` and the like are refused (T-3)."""
        value = _text(value, self.max_length)
        return validation.secure_url(value) if value else ""


@dataclass(frozen=True)
class Color(Kind):
    def make_field(self, setting, ctx):
        return TrimmedField(setting.label, description=setting.help,
                            validators=[InputRequired(),
                                        Regexp(HEX_COLOR, message="Use a colour like #1a73e8.")],
                            render_kw={"type": "color"})

    def from_form(self, setting, form, ctx):
        return form[setting.key].data.lower()

    def load(self, setting, raw, ctx):
        return raw if isinstance(raw, str) and HEX_COLOR.match(raw) else setting.default

    def clean(self, setting, value, ctx):
        if not isinstance(value, str) or not HEX_COLOR.fullmatch(value.strip()):
            raise ValueError("Use a colour like #1a73e8.")
        return value.strip().lower()


@dataclass(frozen=True)
class Integer(Kind):
    minimum: int
    maximum: int

    def make_field(self, setting, ctx):
        return IntegerField(setting.label, description=setting.help,
                            validators=[InputRequired(message="Enter a whole number."),
                                        NumberRange(self.minimum, self.maximum)],
                            render_kw={"min": self.minimum, "max": self.maximum})

    def load(self, setting, raw, ctx):
        ok = isinstance(raw, int) and not isinstance(raw, bool)
        return raw if ok and self.minimum <= raw <= self.maximum else setting.default

    def clean(self, setting, value, ctx):
        ok = isinstance(value, int) and not isinstance(value, bool)
        if not ok or not self.minimum <= value <= self.maximum:
            raise ValueError(f"Enter a whole number from {self.minimum} to {self.maximum}.")
        return value


@dataclass(frozen=True)
class OriginList(Kind):
    """Origins (scheme://host[:port]), one per line."""

    def make_field(self, setting, ctx):
        return TextAreaField(setting.label, description=setting.help,
                             validators=[Length(max=5000), validation.wtf(validation.origin_list)],
                             render_kw={"placeholder": "https://shop.example.com"})

    def form_data(self, setting, value, ctx):
        return {setting.key: "\n".join(value)}

    def from_form(self, setting, form, ctx):
        return validation.origin_list(form[setting.key].data or "")

    def load(self, setting, raw, ctx):
        return [o for o in raw if isinstance(o, str)] if isinstance(raw, list) else []

    def clean(self, setting, value, ctx):
        """A list of origins (or the form's text, one per line), each checked, no duplicates."""
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            value = "\n".join(value)
        if not isinstance(value, str):
            raise ValueError("Give a list of origins, such as https://shop.example.com.")
        if len(value) > 5000:
            raise ValueError("Use at most 5000 characters.")
        return validation.origin_list(value)


MODES = (("read_only", "Read Only"), ("read_write", "Read Write"), ("hidden", "Hidden"))


@dataclass(frozen=True)
class CustomFieldModes(Kind):
    """A mode for each of the merchant's custom fields (P-3), following the definitions.

    Stored as `{definition_id: mode}`. `ctx.custom_fields` lists the current definitions (objects
    with `id` and `name`); a definition added later reads as `default_mode`, a removed one is
    dropped on load.
    """

    default_mode: str = "read_only"
    modes: tuple[tuple[str, str], ...] = field(default=MODES)
    grouped = True

    def _name(self, definition) -> str:
        return f"custom_field_{definition.id}"

    def _definitions(self, ctx):
        return list(getattr(ctx, "custom_fields", None) or [])

    def fields(self, setting, ctx):
        return {self._name(d): SelectField(d.name, choices=select_choices(self.modes),
                                           validators=[InputRequired()])
                for d in self._definitions(ctx)}

    def field_names(self, setting, ctx):
        return [self._name(d) for d in self._definitions(ctx)]

    def form_data(self, setting, value, ctx):
        return {self._name(d): value.get(str(d.id), self.default_mode)
                for d in self._definitions(ctx)}

    def from_form(self, setting, form, ctx):
        return {str(d.id): form[self._name(d)].data for d in self._definitions(ctx)}

    def load(self, setting, raw, ctx):
        stored = raw if isinstance(raw, dict) else {}
        allowed = {value for value, _ in self.modes}
        definitions = self._definitions(ctx)
        if not definitions and ctx is None:
            return {k: v for k, v in stored.items() if v in allowed}
        return {str(d.id): (stored.get(str(d.id)) if stored.get(str(d.id)) in allowed
                            else self.default_mode) for d in definitions}

    def clean(self, setting, value, ctx):
        """{definition_id: mode}: every id one of the merchant's fields (when `ctx` lists them),
        every mode a known one; a field left out gets `default_mode`."""
        if not isinstance(value, dict):
            raise ValueError("Give a mode for each custom field.")
        allowed = [v for v, _ in self.modes]
        definitions = self._definitions(ctx)
        known = {str(d.id) for d in definitions}
        for key, mode in value.items():
            if definitions or ctx is not None:
                if str(key) not in known:
                    raise ValueError(f"There is no custom field {str(key)[:20]}.")
            elif not str(key).isdigit():
                raise ValueError(f"There is no custom field {str(key)[:20]}.")
            if mode not in allowed:
                raise ValueError(f"Choose one of: {', '.join(allowed)}.")
        if definitions or ctx is not None:
            return {str(d.id): value.get(str(d.id), value.get(d.id, self.default_mode))
                    for d in definitions}
        return {str(k): v for k, v in value.items()}

    def mode_for(self, value: dict, definition) -> str:
        return value.get(str(definition.id), self.default_mode)


KEEP = object()  # "no new upload": the stored value stays as it is


@dataclass(frozen=True)
class UploadedImage:
    """A checked upload waiting to be stored; the service that saves the group stores it."""

    data: bytes


@dataclass(frozen=True)
class Image(Kind):
    """An uploaded image (PNG, JPEG, WebP; checked by content), stored as a media reference.

    Two controls: the file, and a checkbox to remove the current image.
    """

    grouped = True
    is_image = True

    def _remove(self, setting) -> str:
        return f"{setting.key}_remove"

    def fields(self, setting, ctx):
        from flask_wtf.file import FileField

        return {setting.key: FileField(f"Upload a new {setting.label.lower()}",
                                       validators=[_image_check],
                                       render_kw={"accept": "image/png,image/jpeg,image/webp"}),
                self._remove(setting): BooleanField(f"Remove the current {setting.label.lower()}")}

    def field_names(self, setting, ctx):
        return [setting.key, self._remove(setting)]

    def form_data(self, setting, value, ctx):
        return {}  # a file input cannot be prefilled

    def from_form(self, setting, form, ctx):
        if form[self._remove(setting)].data:
            return ""
        upload = form[setting.key].data
        if upload and getattr(upload, "filename", ""):
            upload.stream.seek(0)
            return UploadedImage(upload.stream.read())
        return KEEP

    def load(self, setting, raw, ctx):
        return raw if isinstance(raw, str) else setting.default

    def clean(self, setting, value, ctx):
        """A stored media reference (`id/sha16`), "" for none, a checked new upload, or KEEP."""
        if value is KEEP or value == "":
            return value
        if isinstance(value, UploadedImage):
            from ..media.images import check_image

            check_image(value.data)
            return value
        if not isinstance(value, str) or not MEDIA_REFERENCE.fullmatch(value):
            raise ValueError("Not an uploaded image.")
        return value


MEDIA_REFERENCE = re.compile(r"[0-9]{1,18}/[0-9a-f]{16}")


def _image_check(form, field):
    from wtforms.validators import ValidationError

    from ..media.images import check_image, max_bytes

    upload = field.data
    if not upload or not getattr(upload, "filename", ""):
        return
    data = upload.stream.read(max_bytes() + 1)
    upload.stream.seek(0)
    try:
        check_image(data)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
