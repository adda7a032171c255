"""The Flask class the factory builds: Flask with one answer remembered and its own template
environment."""
from flask import Flask

from .templating import PageEnvironment

_KEPT = 1024  # distinct hooks and views; past it, start again (there are about a hundred)


class Application(Flask):
    """Flask remembering which functions are plain (not coroutines): it asks
    `inspect.iscoroutinefunction` of every hook and view on every request (sixteen times for
    a widget page, #26), and a function's answer never changes. Its templates escape their
    output with `templating.escaped_text`."""

    jinja_environment = PageEnvironment

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._plain_functions: dict = {}

    def ensure_sync(self, func):
        try:
            if func in self._plain_functions:
                return func
        except TypeError:  # unhashable: ask every time
            return super().ensure_sync(func)
        found = super().ensure_sync(func)
        if found is func:
            if len(self._plain_functions) >= _KEPT:
                self._plain_functions.clear()
            self._plain_functions[func] = True
        return found
