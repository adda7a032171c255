"""WTForms 3.3+ wants `SelectChoice` objects, not tuples; every select builds its options here."""
from collections.abc import Iterable

from wtforms import SelectChoice


def select_choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]
