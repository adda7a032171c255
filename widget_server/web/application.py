"""The Flask class the factory builds: Flask with one answer remembered and its own template
environment."""
from flask import Flask, Request
from werkzeug.http import parse_cookie
from werkzeug.utils import cached_property

from .templating import PageEnvironment

_KEPT = 1024  # distinct hooks and views; past it, start again (there are about a hundred)


_COOKIES: dict[str, object] = {}  # a Cookie header as sent -> its parsed (immutable) cookies
_COOKIES_KEPT = 4096


class PageRequest(Request):
    """Flask's request, its cookies parsed once per distinct Cookie header: a customer's
    browser sends the same header with every page (#26). The parsed cookies are an
    ImmutableMultiDict, so requests can share them."""

    @cached_property
    def cookies(self):
        header = ";".join(self.headers.getlist("Cookie"))
        found = _COOKIES.get(header)
        if found is None:
            if len(_COOKIES) >= _COOKIES_KEPT:
                _COOKIES.clear()
            found = _COOKIES[header] = parse_cookie(header, cls=self.dict_storage_class)
        return found


class Application(Flask):
    """Flask remembering which functions are plain (not coroutines): it asks
    `inspect.iscoroutinefunction` of every hook and view on every request (sixteen times for
    a widget page, #26), and a function's answer never changes. Its templates escape their
    output with `templating.escaped_text`; its requests parse a Cookie header once."""

    jinja_environment = PageEnvironment
    request_class = PageRequest

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
