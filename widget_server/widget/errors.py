"""The widget's own error pages (issue #20-8): a refusal, a missing page or a rate limit inside
the iframe wears the merchant's theme and navigation, says what happened and leads back into the
account (or to sign-in), instead of the server's bare error page and its link to "/"."""
from flask import abort, current_app, g, request, url_for
from werkzeug.exceptions import HTTPException, MethodNotAllowed

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
    heading, message = (str(text) for text in PAGES[code])
    if code != 429 and error.description != type(error).description:
        message = error.description  # a view's own reason ("No such invoice.")
    signed_in = g.get("customer") is not None
    back_url, back_label = ((url_for(".overview"), gettext("Back to your account")) if signed_in
                            else (url_for(".login"), gettext("Back to sign-in")))
    headers = {}
    retry_after = dict(error.get_headers()).get("Retry-After")
    if retry_after:
        headers["Retry-After"] = retry_after
    body, status = render_widget("widget/error.html", heading=heading,
                                 message=message.format(merchant=g.merchant.name),
                                 back_url=back_url, back_label=back_label, status=code)
    return body, status, headers


for _code in PAGES:
    bp.register_error_handler(_code, widget_error)


@bp.get("/<path:unknown>")
def not_found(unknown):
    """Any other address under the widget: its own 404 page, not the router's bare one. A GET
    of a page that only takes a POST (sign-out) stays a 405, as before this route."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    others = set(adapter.allowed_methods()) - {"GET", "HEAD", "OPTIONS"}
    if others:
        raise MethodNotAllowed(valid_methods=sorted(others))
    abort(404)
