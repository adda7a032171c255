"""Form field helpers shared by every face: trimmed text and WTForms 3.3 select choices."""
from collections.abc import Iterable

from wtforms import SelectChoice, StringField


class TrimmedField(StringField):
    """A text input whose surrounding white space never counts ("   " is empty)."""

    def process_formdata(self, valuelist):
        # raw_data too, so InputRequired sees "" and refuses a blank-only answer
        self.raw_data = [v.strip() if isinstance(v, str) else v for v in valuelist]
        super().process_formdata(self.raw_data)


def select_choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """WTForms 3.3+ wants `SelectChoice` objects, not tuples."""
    return [SelectChoice(value, label) for value, label in pairs]
