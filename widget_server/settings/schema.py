"""`Setting` (a line of a declaration), `Group` (a tab or section), and the typed `SettingsView`."""
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_wtf import FlaskForm

from .kinds import Kind


@dataclass(frozen=True)
class Setting:
    key: str
    kind: Kind
    default: Any
    label: str
    help: str = ""


# A group-level check sees every cleaned value and returns {setting_key: message} for failures.
Check = Callable[[dict[str, Any]], dict[str, str]]


@dataclass(frozen=True)
class Group:
    key: str
    title: str
    settings: tuple[Setting, ...]
    checks: tuple[Check, ...] = field(default=())
    description: str = ""
    # The attribute a model exposes the group under (`profile.global_`: `global` is a keyword).
    attribute: str = ""

    @property
    def accessor(self) -> str:
        return self.attribute or self.key

    def __post_init__(self):
        """Declaration mistakes fail at import time, not in front of a merchant."""
        keys = [s.key for s in self.settings]
        if len(keys) != len(set(keys)):
            raise ValueError(f"duplicate setting key in {self.key}")
        reserved = {"data", "errors", "validate", "group", "meta", "populate_obj", "process",
                    "csrf_token", "form_errors", "hidden_tag"}
        for s in self.settings:
            if s.key in reserved or s.key.startswith("_") or re.fullmatch(r"custom_field_\d+",
                                                                             s.key):
                raise ValueError(f"{self.key}.{s.key}: reserved name for a form field")
            if s.kind.load(s, s.default, None) != s.default:
                raise ValueError(f"{self.key}.{s.key}: default {s.default!r} does not fit its "
                                 "kind")

    def setting(self, key: str) -> Setting:
        for s in self.settings:
            if s.key == key:
                return s
        raise KeyError(key)

    def defaults(self) -> dict[str, Any]:
        return {s.key: _copy(s.default) for s in self.settings}

    def load(self, raw: Mapping | None, ctx=None) -> dict[str, Any]:
        """Typed values from storage; defaults fill what was never saved or no longer fits."""
        raw = raw if isinstance(raw, Mapping) else {}
        return {s.key: (s.kind.load(s, raw[s.key], ctx) if s.key in raw else
                        s.kind.load(s, _copy(s.default), ctx))
                for s in self.settings}

    def view(self, raw: Mapping | None, ctx=None) -> "SettingsView":
        return SettingsView(self, self.load(raw, ctx))

    # --- forms -------------------------------------------------------------------------------
    def form_class(self, ctx=None, base: type = FlaskForm) -> type:
        """A WTForms class generated from the declaration, with the group checks built in."""
        attrs: dict[str, Any] = {}
        for s in self.settings:
            attrs.update(s.kind.fields(s, ctx))
        group = self

        def validate(form, extra_validators=None):
            ok = base.validate(form, extra_validators=extra_validators)
            if not ok:
                return False
            for key, message in group.run_checks(group.values_from(form, ctx)).items():
                form[key].errors = [*form[key].errors, message]
                ok = False
            return ok

        attrs["validate"] = validate
        attrs["group"] = self
        return type(f"{self.key.title()}SettingsForm", (base,), attrs)

    def form_data(self, values: Mapping, ctx=None) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for s in self.settings:
            data.update(s.kind.form_data(s, values[s.key], ctx))
        return data

    def values_from(self, form, ctx=None) -> dict[str, Any]:
        """Clean values from a validated form, ready to store."""
        return {s.key: s.kind.from_form(s, form, ctx) for s in self.settings}

    def run_checks(self, values: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        for check in self.checks:
            for key, message in check(values).items():
                errors.setdefault(key, message)
        return errors

    def field_names(self, setting: Setting, ctx=None) -> list[str]:
        return setting.kind.field_names(setting, ctx)


class SettingsView:
    """Read-only typed access: `profile.payment.allow_payments`. Unknown keys are an error, so a
    typo in a widget check fails loudly instead of reading as False."""

    __slots__ = ("_group", "_values")

    def __init__(self, group: Group, values: dict[str, Any]):
        object.__setattr__(self, "_group", group)
        object.__setattr__(self, "_values", values)

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(f"{self._group.key} has no setting {key!r}") from None

    def __setattr__(self, key, value):
        raise AttributeError("settings are read-only; save them through the profile service")

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def __repr__(self) -> str:
        return f"<{self._group.key} settings {self._values!r}>"


def _copy(value):
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value
