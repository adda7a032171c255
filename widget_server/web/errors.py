"""Error pages: a clear page (or JSON for API paths), never a stack trace."""
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


def _render(code: int, message: str):
    if request.path.startswith("/api/") or request.path == "/healthz":
        return jsonify(error={"code": code, "message": message}), code
    home = "/admin/" if request.path.startswith("/admin") else None
    return render_error(code, message, home)


def render_error(code: int, message: str, home_url: str | None = None):
    """The error page, leading back to `home_url` (a face's own start page) or the root."""
    return render_template("error.html", code=code, message=message, home_url=home_url), code
