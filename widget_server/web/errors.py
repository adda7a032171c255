"""Error pages: a clear page (or JSON for API paths), never a stack trace."""
import time

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..core.domain import DomainError
from ..core.extensions import db

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have permission to do that.",
    404: "That page does not exist.",
    405: "That action is not allowed here.",
    413: "That upload is too large.",
    429: "Too many attempts. Please wait a moment and try again.",
}


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        message = "Your form expired or was sent from elsewhere. Please try again."
        return _render(400, message)

    app.register_error_handler(DomainError, refused)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if request.path.startswith("/api/"):
            return api_http_error(error)
        custom = error.description != type(error).description and error.code != 429
        message = error.description if custom else MESSAGES.get(error.code, error.description)
        body, code = _render(error.code or 500, message)
        retry_after = dict(error.get_headers()).get("Retry-After")  # 503 "busy, try again"
        return body, code, {"Retry-After": retry_after} if retry_after else {}


def refused(exc: DomainError):
    """A refusal no page caught: its own message and status (JSON `{code, message, field,
    errors}` on the API), never a 500; nothing of the refused change is kept."""
    db.session.rollback()
    if request.path.startswith("/api/"):
        return jsonify(error=exc.as_json()), exc.status
    return _render(exc.status, exc.message)


# The API's error codes for what no service raised (issue #25 item 2): routing, auth, limits.
API_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
             405: "method_not_allowed", 409: "conflict", 413: "too_large",
             415: "unsupported_media_type", 422: "invalid", 429: "rate_limited"}


def api_http_error(error: HTTPException):
    """`{"error": {"code", "message", "field", "errors"}}` for an HTTP error on the API: a
    request body or query that failed its schema (422) names its first field (dotted for
    nested ones, `emails.0`); 429 says when to retry."""
    status = error.code or 500
    custom = error.description != type(error).description and status != 429
    message = error.description if custom else MESSAGES.get(status, error.description)
    errors = {}
    for location, problems in ((getattr(error, "data", None) or {}).get("messages") or {}).items():
        errors.update(_flatten(problems, "" if location in ("json", "query") else location))
    field = next(iter(errors), None)
    if errors:
        message = errors[field]
    headers = {}
    if status == 429:
        headers["Retry-After"] = str(_retry_after())
    elif status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    body = jsonify(error={"code": API_CODES.get(status, "error"), "message": message,
                          "field": field, "errors": errors})
    return body, status, headers


def _flatten(problems, prefix: str) -> dict[str, str]:
    if isinstance(problems, list):
        return {prefix or "": str(problems[0])} if problems else {}
    if not isinstance(problems, dict):
        return {prefix or "": str(problems)}
    out = {}
    for name, inner in problems.items():
        name = "" if name == "_schema" else str(name)
        out.update(_flatten(inner, ".".join(p for p in (prefix, name) if p)))
    return out


def _retry_after() -> int:
    from ..core.extensions import limiter

    limit = limiter.current_limit
    if limit is None:
        return 60
    return max(1, int(limit.reset_at - time.time()) + 1)


def _render(code: int, message: str):
    if request.path.startswith("/api/"):
        return jsonify(error={"code": API_CODES.get(code, "error"), "message": message,
                              "field": None, "errors": {}}), code
    if request.path == "/healthz":
        return jsonify(error={"code": code, "message": message}), code
    home = "/admin/" if request.path.startswith("/admin") else None
    return render_error(code, message, home)


def render_error(code: int, message: str, home_url: str | None = None):
    """The error page, leading back to `home_url` (a face's own start page) or the root."""
    return render_template("error.html", code=code, message=message, home_url=home_url), code
