"""`Setting` (a line of a declaration), `Group` (a tab or section), and the typed `SettingsView`."""
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_wtf import FlaskForm

from ..core.domain import DomainError
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
            try:
                fits = s.kind.clean(s, _copy(s.default), None) == s.default
            except ValueError:
                fits = False
            if not fits or s.kind.load(s, s.default, None) != s.default:
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
        """Typed values from storage; defaults fill what was never saved or no longer fits.

        A stored value passes the same `clean` as a write, so one stored before a rule existed
        (a `javascript:` Success URL, no payment method at all) reads as the default."""
        raw = raw if isinstance(raw, Mapping) else {}
        return {s.key: self._load_one(s, raw[s.key], ctx) if s.key in raw else
                s.kind.load(s, _copy(s.default), ctx)
                for s in self.settings}

    @staticmethod
    def _load_one(s: Setting, raw, ctx):
        value = s.kind.load(s, raw, ctx)
        try:
            return s.kind.clean(s, value, ctx)
        except ValueError:
            return s.kind.load(s, _copy(s.default), ctx)

    def clean(self, values: Mapping, ctx=None) -> dict[str, Any]:
        """The values every writer stores (the admin form, the API, imports): unknown keys
        refused, each value cleaned by its kind, a missing one given its default, then the
        group's cross-field checks. Raises DomainError with {key: message} for every failure
        at once."""
        if not isinstance(values, Mapping):
            raise DomainError("Settings must be an object of setting keys and values.",
                              code="invalid_settings")
        known = {s.key for s in self.settings}
        errors = {str(key): "Unknown setting." for key in values if key not in known}
        cleaned: dict[str, Any] = {}
        for s in self.settings:
            value = values[s.key] if s.key in values else _copy(s.default)
            try:
                cleaned[s.key] = s.kind.clean(s, value, ctx)
            except ValueError as exc:
                errors[s.key] = str(exc)
        for key, message in self.run_checks(cleaned).items():
            errors.setdefault(key, message)
        if errors:
            raise DomainError.invalid(errors, f"{self.title} settings were not saved.",
                                      code="invalid_settings")
        return cleaned

    def view(self, raw: Mapping | None, ctx=None) -> "SettingsView":
        if ctx is not None:
            return SettingsView(self, self.load(raw, ctx))
        return self.view_of_stored(fingerprint(raw))

    def view_kept_on(self, holder, raw: Mapping | None) -> "SettingsView":
        """The view of `raw`, kept on `holder` (a profile, a merchant) while its stored value
        stays the same: a page reads a tab or section a dozen times. A copy of the value is
        kept beside the view, so a change made in place is noticed."""
        views = holder.__dict__.setdefault("_settings_views", {})
        kept = views.get(self.key)
        if kept is not None and kept[0] == raw:
            return kept[1]
        # A widget request's merchant and profile are new objects, their values mostly those
        # the last request saw: compared with that value (a dict comparison), not serialised
        # and parsed again to find its view (a twentieth of a page, #26).
        last_key = (self.key, type(holder), getattr(holder, "id", None))
        kept = _LAST_VIEWS.get(last_key)
        if kept is None or kept[0] != (raw if isinstance(raw, Mapping) else {}):
            stored = fingerprint(raw)
            kept = (json.loads(stored), self.view_of_stored(stored))
            if len(_LAST_VIEWS) >= _VIEWS_KEPT:
                _LAST_VIEWS.clear()
            _LAST_VIEWS[last_key] = kept
        views[self.key] = kept
        return kept[1]

    def view_of_stored(self, stored: str) -> "SettingsView":
        """The view of a stored value given as its `fingerprint`, made once per process: every
        widget request reads six tabs and two sections, and checking each value anew cost a
        fifth of a page's time (issue #26). Views are read-only and `load` depends on the
        value alone, so sharing one between requests is safe; a changed value is another key."""
        key = (id(self), stored)
        view = _VIEWS.get(key)
        if view is None:
            if len(_VIEWS) >= _VIEWS_KEPT:
                _VIEWS.clear()
            view = _VIEWS[key] = SettingsView(self, self.load(json.loads(stored)))
        return view

    # --- forms -------------------------------------------------------------------------------
    def form_class(self, ctx=None, base: type = FlaskForm) -> type:
        """A WTForms class generated from the declaration, with the group checks built in."""
        attrs: dict[str, Any] = {}
        for s in self.settings:
            attrs.update(s.kind.fields(s, ctx))
        group = self

        def validate(form, extra_validators=None):
            """The fields' own validators first (their messages are the friendliest), then the
            group's `clean`, the authority every other writer goes through too."""
            if not base.validate(form, extra_validators=extra_validators):
                return False
            try:
                group.clean(group.values_from(form, ctx), ctx)
            except DomainError as exc:
                group.show_errors(form, exc.errors, ctx)
                return False
            return True

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
        """Cross-field checks over cleaned values; a check that needs a value which failed its
        own clean is skipped (that value already has its message)."""
        errors: dict[str, str] = {}
        for check in self.checks:
            try:
                found = check(values)
            except KeyError:
                continue
            for key, message in found.items():
                errors.setdefault(key, message)
        return errors

    def show_errors(self, form, errors: Mapping[str, str], ctx=None) -> list[str]:
        """Put each {key: message} beside its field on a generated form (a grouped setting's
        message on its first control); returns the messages no field could take."""
        unplaced = []
        for key, message in errors.items():
            name = key if key in form else None
            if name is None and key in {s.key for s in self.settings}:
                name = next((n for n in self.field_names(self.setting(key), ctx) if n in form),
                            None)
            if name is None:
                unplaced.append(message)
                continue
            form[name].errors = [*form[name].errors, message]
        return unplaced

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


_VIEWS: dict[tuple[int, str], "SettingsView"] = {}
_VIEWS_KEPT = 2048  # distinct stored values per process; past it, start again
# (group key, holder's class, holder's id) -> (a copy of its last value, that value's view)
_LAST_VIEWS: dict[tuple, tuple[Any, "SettingsView"]] = {}


def fingerprint(raw) -> str:
    """A stored settings value as one canonical string (JSON, keys sorted)."""
    return json.dumps(raw if isinstance(raw, Mapping) else {}, sort_keys=True, default=str)


def _copy(value):
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value
