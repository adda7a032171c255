"""The widget's side of single sign-on (SPEC E-8, issue #25 item 6): any widget page opened with
`?session=<token>` (the loader's `data-session`, or the URL the API answered) exchanges the token
once for a portal session, then redirects to the same page without the token, so it stays in
neither the history nor a Referer. A token that can no longer be used leads to the sign-in page
with one message, whatever the reason (used, expired, replaced, another merchant's); a browser
already signed in just stays where it is."""
from urllib.parse import urlencode

from flask import flash, g, redirect, request, url_for

from ..core.i18n import lazy_gettext as _l
from ..customers import sign_in_tokens
from .auth import begin_session

LINK_UNUSABLE = _l("This sign-in link can no longer be used. Please sign in again on the site "
                   "you came from, or with your password.")


def exchange(token: str | None):
    customer = sign_in_tokens.consume(token, g.merchant.id)
    rest = [(k, v) for k, v in request.args.items(multi=True) if k != "session"]
    if customer is None and g.customer is not None:
        # already signed in here (the frame reloaded with its spent token): stay, say nothing
        target = request.path + ("?" + urlencode(rest) if rest else "")
    elif customer is None:
        flash(str(LINK_UNUSABLE), "warning")
        target = url_for(".login")
        if rest:
            target += "?" + urlencode(rest)
    else:
        begin_session(customer)
        target = request.path + ("?" + urlencode(rest) if rest else "")
    response = redirect(target)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
