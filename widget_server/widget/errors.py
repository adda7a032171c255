"""The widget's own error pages (issue #20-8): a refusal, a missing page or a rate limit inside
the iframe (and a bad request, a wrong method, an upload too large, a sign-in flood's "busy"
with its Retry-After, a service's refusal no view caught) wears the merchant's theme and
navigation, says what happened in the customer's language and leads back into the account (or
to sign-in), instead of the server's bare English page and its link to "/"."""
from flask import abort, current_app, g, request, url_for
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from ..core.domain import DomainError
from ..core.extensions import db
from ..core.i18n import gettext
from ..core.i18n import lazy_gettext as _l
from . import bp
from .context import identify
from .rendering import render_widget

PAGES = {
    403: (_l("Not available here"),
          _l("This page or action is not part of your account here. If you think it should "
             "be, please contact {merchant}.")),
    404: (_l("Page not found"),
          _l("There is no such page in your account. The link may be incomplete, or what it "
             "pointed to is no longer there.")),
    429: (_l("Too many attempts"),
          _l("There were too many attempts in a short time. Please wait a minute and try "
             "again.")),
    400: (_l("This could not be done"),
          _l("The request could not be understood. Please go back and try again.")),
    405: (_l("Not available here"),
          _l("This address cannot be used that way. Please use the page's links and buttons.")),
    413: (_l("Too large"), _l("That upload is too large.")),
    503: (_l("Please try again in a moment"),
          _l("Many people are using this service right now. Please try again in a moment.")),
}


def widget_error(error: HTTPException):
    code = error.code or 500
    if g.get("merchant") is None or g.get("profile") is None:
        unavailable = identify()  # a limit hit before the widget's own before_request ran
        if unavailable is not None:
            return unavailable
    from .cart import refused_page

    refused = refused_page(code)
    if refused is not None:
        return refused
    own = code != 429 and error.description != type(error).description
    headers = {}
    retry_after = dict(error.get_headers()).get("Retry-After")
    if retry_after:
        headers["Retry-After"] = retry_after
    # a view's own reason ("No such invoice.") rather than the page's general words
    body, status = error_page(code, error.description if own else None)
    return body, status, headers


def refused(exc: DomainError):
    """A service's refusal no view caught (a crafted form, a change raced by another tab): the
    widget's page with its message and status, in the customer's language; nothing of the
    refused change is kept."""
    db.session.rollback()
    if g.get("merchant") is None or g.get("profile") is None:
        unavailable = identify()
        if unavailable is not None:
            return unavailable
    return error_page(exc.status, exc.message)


def error_page(code: int, message: str | None = None):
    """The themed page for `code`: what happened, and the way back into the account (or to
    sign-in)."""
    heading, general = (str(text) for text in PAGES.get(code, PAGES[400]))
    signed_in = g.get("customer") is not None
    back_url, back_label = ((url_for(".overview"), gettext("Back to your account")) if signed_in
                            else (url_for(".login"), gettext("Back to sign-in")))
    # (only the page's own words name the merchant: a view's or service's message is as written)
    return render_widget("widget/error.html", heading=heading,
                         message=message or general.format(merchant=g.merchant.name),
                         back_url=back_url, back_label=back_label, status=code)


for _code in PAGES:
    bp.register_error_handler(_code, widget_error)
bp.register_error_handler(DomainError, refused)


@bp.get("/<path:unknown>")
def not_found(unknown):
    """Any other address under the widget: its own 404 page, not the router's bare one. A GET
    of a page that only takes a POST (sign-out) stays a 405, as before this route."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    others = set(adapter.allowed_methods()) - {"GET", "HEAD", "OPTIONS"}
    if others:
        raise MethodNotAllowed(valid_methods=sorted(others))
    abort(404)
