"""Customer sign-in and sign-out inside the widget (C-1)."""
from flask import flash, g, jsonify, redirect, request, session, url_for
from flask_wtf.csrf import CSRFError, generate_csrf

from ..commerce import carts
from ..core.domain import DomainError
from ..core.extensions import limiter
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.i18n import ngettext
from ..core.validation import local_path
from ..customers import auth as customer_auth
from ..customers import credentials, portal_sessions
from ..customers.models import TEMP_USED
from ..tenancy.configuration import SECURITY, merchant_settings
from ..web.form_fields import show_errors
from . import bp
from .cart import CART_KEY
from .context import SESSION_KEY, load_portal
from .forms import ActionForm, ChangePasswordForm, LoginForm, NewPasswordForm
from .pay_links import AFTER_LOGIN, guest_link
from .rendering import EVENT_KEY, render_widget, widget_event

BAD_CREDENTIALS = _l("Username/email or password is incorrect.")


def problem_message(problem: str, merchant: str, minutes: int) -> str:
    """Why a sign-in failed, in the customer's language; "locked" is said of unknown logins
    too, at the same count (issue #19-9): never a hint of existence."""
    if problem == "locked" and minutes:
        return ngettext("Your account is locked after too many unsuccessful sign-ins. Please "
                        "try again in %(num)d minute, or contact %(merchant)s to unlock it.",
                        "Your account is locked after too many unsuccessful sign-ins. Please "
                        "try again in %(num)d minutes, or contact %(merchant)s to unlock it.",
                        minutes, merchant=merchant)
    if problem == "locked":
        return _("Your account is locked after too many unsuccessful sign-ins. Please contact "
                 "%(merchant)s to unlock it.", merchant=merchant)
    if problem == "temp_expired":
        return _("Your temporary password has expired. Please contact %(merchant)s for a new "
                 "one, or use “Forgot password?”.", merchant=merchant)
    if problem == "temp_used":
        return _("Your temporary password was already used. Use “Forgot password?” or contact "
                 "%(merchant)s.", merchant=merchant)
    return str(BAD_CREDENTIALS)


def _login_key() -> str:
    """Throttle per account as well as per address (C-8): guessing one account from many
    addresses is slowed too."""
    login = (request.form.get("login") or "").strip().lower()[:254]
    return f"login:{g.get('merchant_slug')}:{login}"


def _come_back() -> str | None:
    """Where this sign-in page was asked to lead (`?next=`, a widget path: never off-site)."""
    target = request.args.get("next")
    return target if local_path(target, "/p/") or local_path(target, "/w/") else None


def begin_session(customer) -> None:
    """Sign `customer` into this browser, after a password or a single sign-on token (E-8):
    a new server-side portal session, a fresh cookie session (and CSRF token), the logged-in
    event for the host page."""
    token = customer_auth.sign_in(customer, session.get(SESSION_KEY))
    cart_key = session.get(CART_KEY)
    session.clear()  # a fresh session (and CSRF token) on every sign-in
    session[SESSION_KEY] = token
    # The cart widget beside this one shares the session (E-7, #22): its cart survives
    # the sign-in and now belongs to the customer.
    if isinstance(cart_key, str) and carts.find(g.merchant, cart_key) is not None:
        session[CART_KEY] = cart_key
        carts.get_or_create(g.merchant, cart_key, customer)
    session[EVENT_KEY] = widget_event("logged-in", customer_id=customer.id)
    g.customer = customer



@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute;200 per hour", methods=["POST"])
@limiter.shared_limit("10 per 5 minutes", scope="customer-login", methods=["POST"],
                      key_func=_login_key)
def login():
    if g.customer is not None:  # signed in meanwhile (in the widget beside this one, E-7)
        return redirect(_come_back() or url_for(".overview"))
    form = LoginForm()
    if not g.profile.global_.password_sign_in:  # single sign-on only (E-8): no password here
        return render_widget("widget/login.html", form=form, sso_only=True,
                             status=403 if request.method == "POST" else 200)
    if form.validate_on_submit():
        result = customer_auth.authenticate(g.merchant, form.login.data, form.password.data)
        customer = result.customer
        if customer is None:
            minutes = merchant_settings(g.merchant, SECURITY).lockout_minutes
            form.password.errors.append(problem_message(result.problem, g.merchant.name,
                                                        minutes))
        if customer is not None:
            # this page's own `next`, or a "Pay invoice" link waiting for sign-in
            after_login = _come_back() or session.get(AFTER_LOGIN)
            begin_session(customer)
            target = after_login if local_path(after_login, "/p/") or local_path(
                after_login, "/w/") else url_for(".overview")
            return redirect(target)
    # the cart's sign-in (its checkout waiting): the ways back to the cart and its guest checkout
    from_cart = (_come_back() or "").endswith("/cart/checkout")
    return render_widget("widget/login.html", form=form, guest_url=guest_link(),
                         from_cart=from_cart, status=400 if form.errors else 200)


@bp.get("/cookie-check")
def cookie_check():
    """The second half of the cookie round trip (E-4): the login page stored a CSRF token in the
    session cookie; if the browser sent the cookie back, the iframe can keep a session."""
    has_session = "csrf_token" in session
    return jsonify(cookies=has_session, csrf=generate_csrf() if has_session else None)


@bp.errorhandler(CSRFError)
def session_lost(error):
    """A form posted without its session: in an iframe that usually means the browser blocks
    the frame's cookies. Show the way out (a new tab) instead of a bare 400."""
    unavailable = load_portal()
    if unavailable is not None:
        return unavailable
    if "csrf_token" in session:
        # The browser keeps cookies, but the form belonged to an older session: ask again.
        flash(_("Your session was renewed. Please try again."), "warning")
        return redirect(url_for(".login" if g.customer is None else ".overview"))
    return render_widget("widget/login.html", form=LoginForm(formdata=None), storage_blocked=True,
                         status=400)


@bp.route("/password", methods=["GET", "POST"])
def change_password():
    """C-10 (and C-7's forced change): a new password signs out every session at once."""
    forced = g.customer.temp_password_state == TEMP_USED
    form = (NewPasswordForm if forced else ChangePasswordForm)()
    if form.validate_on_submit():
        try:
            credentials.change_password(g.merchant, g.customer, form.password.data,
                                        None if forced else form.current.data)
        except DomainError as exc:
            show_errors(form, exc, default="password")
        else:
            session.clear()
            flash(_("Your password is changed and you are signed out everywhere. Please sign "
                    "in again with your new password."), "success")
            return redirect(url_for(".login"))
    return render_widget("widget/change_password.html", form=form, forced=forced,
                         rules=credentials.password_rules(g.merchant),
                         status=400 if form.errors else 200)


@bp.post("/logout")
def logout():
    if ActionForm().validate_on_submit():
        portal_sessions.end(session.get(SESSION_KEY))
        session.clear()
        session[EVENT_KEY] = widget_event("logged-out")
        flash(_("You are signed out."), "info")
    return redirect(url_for(".login"))
