"""Request-wide guards against crafted input that no form should ever see.

- `IdConverter`: `<id:…>` URL parts are positive integers that fit the primary keys (INTEGER,
  32 bits on PostgreSQL), so a 10- or 30-digit id is a 404, not an overflow in the driver.
- `reject_control_characters`: NUL and other C0 control characters in form fields or query
  strings are refused up front (PostgreSQL rejects NUL in text and `\\u0000` in JSONB).
"""
import re

from flask import abort, current_app, request
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # primary keys are INTEGER
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class IdConverter(IntegerConverter):
    def __init__(self, map, **kwargs):
        super().__init__(map, min=1, max=MAX_ID, **kwargs)


def accepts_uploads(allowance):
    """Mark a view whose form carries files: its request body may be `allowance()` bytes, more
    than the app's `MAX_CONTENT_LENGTH` (read before any form parsing, `allow_uploads`); None
    keeps the app's limit (e.g. for a visitor who is not signed in)."""

    def mark(view):
        view.upload_allowance = allowance
        return view

    return mark


def allow_uploads():
    """A view marked `accepts_uploads` takes its larger body (Flask 3.1: per request)."""
    allowance = getattr(current_app.view_functions.get(request.endpoint), "upload_allowance",
                        None)
    limit = allowance() if allowance is not None else None
    if limit is not None:
        request.max_content_length = limit


def reject_control_characters():
    allow_uploads()  # the first guard to read the form: the body's limit is set before it
    # (a request without a body has no form: not asking spares setting up its parsing, #26)
    has_body = request.content_length or "Transfer-Encoding" in request.headers
    for source in (request.args, request.form) if has_body else (request.args,):
        for value in source.values():
            if CONTROL.search(value):
                abort(400, "The request contained control characters, which are not allowed.")


def optional_id(raw: str | None) -> int | None:
    """A keyset cursor or id from a query string: a positive id that fits a key, or None."""
    if raw and raw.isascii() and raw.isdecimal() and len(raw) < 12:
        value = int(raw)
        return value if 0 < value <= MAX_ID else None
    return None


def page_number(raw: int | None, maximum: int = 100_000) -> int:
    """A 1-based page number from a query string, clamped to a sane range."""
    return min(max(raw or 1, 1), maximum)
