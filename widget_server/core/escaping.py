"""Escaping a value for HTML into a plain string: what the pages' templates (and the
translated sentences they fill in) need, without a `Markup` object per value (#26)."""
from markupsafe import Markup, _escape_inner


def escaped_text(value, _str=str, _int=int, _markup=Markup, _escape=_escape_inner) -> str:
    """`markupsafe.escape(value)` as a plain string: the same escaping (markupsafe's own C
    function, `__html__` honoured), without the `Markup` object."""
    kind = type(value)
    if kind is _str:
        return _escape(value)
    if kind is _markup:
        return value
    if kind is _int:  # digits: nothing to escape
        return _str(value)
    html = getattr(value, "__html__", None)
    if html is not None:  # Markup's subclasses, lazy translations, form fields
        return html()
    return _escape(_str(value))
