"""Form helpers shared by every face: trimmed single-line text, WTForms 3.3 select choices, and
how a refused change (`DomainError`) is shown on a form."""
from collections.abc import Iterable

from wtforms import EmailField, SelectChoice, StringField, URLField

from ..core import dates
from ..core.domain import DomainError
from ..core.extensions import db
from ..core.i18n import current_language
from ..core.i18n import gettext as _
from ..core.validation import is_single_line, single_line_message


class SingleLine:
    """Mixin for single-line text inputs: surrounding white space never counts ("   " is
    empty), and a line break or another control character is refused before any validator
    runs (issue #19-11). Every single-line field of every face is one of these."""

    def process_formdata(self, valuelist):
        # raw_data too, so InputRequired sees "" and refuses a blank-only answer
        self.raw_data = [v.strip() if isinstance(v, str) else v for v in valuelist]
        super().process_formdata(self.raw_data)
        if self.raw_data and isinstance(self.raw_data[0], str) \
                and not is_single_line(self.raw_data[0]):
            raise ValueError(single_line_message())


class TrimmedField(SingleLine, StringField):
    """A single-line text input (see `SingleLine`)."""


class TrimmedEmailField(SingleLine, EmailField):
    """A single-line email input."""


class TrimmedURLField(SingleLine, URLField):
    """A single-line URL input."""


class LocalDateField(SingleLine, StringField):
    """A date typed as text in the merchant's pattern (de_DE 05.12.2026) rather than an
    `<input type="date">`, whose display follows the browser's locale, not the merchant's
    (issue #20). ISO (2026-12-05) is accepted too. `locale` is a callable: the merchant is
    known only per request."""

    def __init__(self, label=None, validators=None, *, locale, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.locale = locale

    @property
    def format_hint(self) -> str:
        return dates.format_hint(self.locale(), current_language())

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)  # trimmed, single line: self.data is the text
        text, self.data = self.data, None
        if text:
            try:
                self.data = dates.parse_input(text, self.locale())
            except ValueError:
                raise ValueError(_("Enter the date as %(format)s.",
                                   format=self.format_hint)) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return dates.format_input(self.data, self.locale()) if self.data else ""


def select_choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """WTForms 3.3+ wants `SelectChoice` objects, not tuples."""
    return [SelectChoice(value, label) for value, label in pairs]


def show_errors(form, exc: DomainError, *, hidden: Iterable[str] = (),
                default: str | None = None) -> list[str]:
    """How a face shows a refused change, once for every page: the unit of work is rolled back
    (a refusal never commits half a change with the page that reports it), each message goes
    next to its field, and the messages no shown field can take are returned for the top of
    the page (all of them without a `form`). `hidden`: fields the page does not show under its
    rules; `default`: the field that takes a message about no field, if the page has one."""
    db.session.rollback()
    hidden, rest = set(hidden), []
    for field, message in exc.errors.items():
        name = field if field is not None else default
        if form is not None and name is not None and name in form and name not in hidden:
            if message not in form[name].errors:
                form[name].errors = [*form[name].errors, message]
        else:
            rest.append(message)
    return rest
