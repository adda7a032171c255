"""The widget face: the customer's "My Account" pages, framed on merchants' sites (/w/…) or
standalone (/p/…, the merchant's default profile). Calls domain services, never other faces."""
from flask import Blueprint, Flask

bp = Blueprint("widget", __name__)
EMBEDDED = "widget"
STANDALONE = "portal"

from . import (  # noqa: E402,F401  (routes register on import)
    account,
    auth,
    cart,
    cart_guest,
    context,
    credentials,
    errors,
    guest,
    invoices,
    issues,
    new_invoice,
    order_changes,
    orders,
    pay_links,
    payments,
    preview,
    profile,
    proposals,
    rendering,
    sso,
    wallet,
)


def register(app: Flask) -> None:
    """The same pages twice: embedded with an explicit profile, standalone with the default."""
    app.register_blueprint(bp, url_prefix="/w/<merchant_slug>/<profile_slug>", name=EMBEDDED)
    app.register_blueprint(bp, url_prefix="/p/<merchant_slug>", name=STANDALONE)
    app.after_request(rendering.apply_unrouted_widget_headers)  # router-level 404/405
