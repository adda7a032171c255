"""Who and where: the merchant and profile named by the URL, the signed-in customer, and the
portal-unavailable answer when the portal, the profile or the merchant is missing or off."""
from flask import flash, g, redirect, request, session, url_for
from flask_babel import refresh as refresh_language

from ..core.i18n import lazy_gettext as _l
from ..customers import portal_sessions
from ..customers.languages import remember_language
from ..customers.models import TEMP_USED
from ..tenancy.configuration import PORTAL, merchant_settings
from . import EMBEDDED, bp, capabilities
from .rendering import apply_widget_headers, render_widget

SESSION_KEY = "portal_sid"


@bp.url_value_preprocessor
def _pull_slugs(endpoint, values):
    g.merchant_slug = values.pop("merchant_slug", None)
    g.profile_slug = values.pop("profile_slug", None)


@bp.url_defaults
def _add_slugs(endpoint, values):
    if "merchant_slug" in g and g.merchant_slug:
        values.setdefault("merchant_slug", g.merchant_slug)
        if endpoint.startswith(EMBEDDED + ".") and g.get("profile_slug"):
            values.setdefault("profile_slug", g.profile_slug)


@bp.before_request
def load_portal():
    unavailable = identify()
    if unavailable is not None:
        return unavailable
    if "session" in request.args and request.method == "GET":
        from .sso import exchange  # (sso signs in through auth, which imports this module)

        return exchange(request.args.get("session"))
    if (g.customer is not None and g.customer.temp_password_state == TEMP_USED
            and request.endpoint.rpartition(".")[2] not in MAY_PASS_FORCED_CHANGE):
        return redirect(url_for(".change_password"))  # C-7: a new password before anything
    return capabilities.enforce()


SIGNED_OUT_ELSEWHERE = _l("You were signed out because your password was changed. Please sign "
                          "in with your new password.")


def identify():
    """The merchant, profile and signed-in customer (g), or the "unavailable" page. Also what
    the widget's error pages need to wear the merchant's theme."""
    here = g._get_current_object()  # (one lookup through `g`'s proxy, not a dozen: #26)
    here.customer = None
    token = session.get(SESSION_KEY)
    merchant, profile, found = portal_sessions.portal_for(
        here.merchant_slug or "",
        (here.profile_slug or "") if request.blueprint == EMBEDDED else None, token)
    here.merchant, here.profile = merchant, profile
    if "_flask_babel" in here.__dict__:  # (a language chosen before the merchant was known)
        refresh_language()  # chosen anew now that the merchant (and its languages) is known
    if merchant is None:
        return render_widget("widget/unavailable.html", status=404)
    if profile is None:
        return render_widget("widget/unavailable.html", status=404)
    if not profile.enabled or not merchant_settings(merchant, PORTAL).enable_customer_portal:
        return render_widget("widget/unavailable.html", status=403)
    customer = here.customer = portal_sessions.signed_in(found)
    remember_language(customer)  # their emails' language (B-5)
    if (customer is None and token and portal_sessions.ended_because(token, merchant.id)
            == portal_sessions.PASSWORD_CHANGED):
        # Signed out by a new password set elsewhere (issue #20-8): say so once, on sign-in.
        session.pop(SESSION_KEY, None)
        flash(str(SIGNED_OUT_ELSEWHERE), "warning")
    return None


MAY_PASS_FORCED_CHANGE = {"change_password", "logout", "cookie_check"}


bp.after_request(apply_widget_headers)
