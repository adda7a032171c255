"""Customer sign-in and sign-out inside the widget (C-1)."""
from flask import flash, g, jsonify, redirect, session, url_for
from flask_wtf.csrf import CSRFError, generate_csrf

from ..customers import auth as customer_auth
from ..customers import portal_sessions
from . import bp
from .access import profile_allows
from .context import SESSION_KEY, load_portal
from .forms import ActionForm, LoginForm
from .rendering import EVENT_KEY, render_widget

BAD_CREDENTIALS = "Username/email or password is incorrect."


@bp.route("/login", methods=["GET", "POST"])
def login():
    if g.customer is not None:
        return redirect(url_for(".overview"))
    form = LoginForm()
    if form.validate_on_submit():
        customer = customer_auth.authenticate(g.merchant.id, form.login.data, form.password.data)
        if customer is not None:
            portal_sessions.end(session.get(SESSION_KEY))
            session.clear()  # a fresh session (and CSRF token) on every sign-in
            session[SESSION_KEY] = portal_sessions.start(customer)
            session[EVENT_KEY] = "logged-in"
            return redirect(url_for(".overview"))
        form.password.errors.append(BAD_CREDENTIALS)
    return render_widget("widget/login.html", form=form, status=400 if form.errors else 200)


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
        flash("Your session was renewed. Please try again.", "warning")
        return redirect(url_for(".login" if g.customer is None else ".overview"))
    return render_widget("widget/login.html", form=LoginForm(formdata=None), storage_blocked=True,
                         status=400)


@bp.post("/logout")
@profile_allows("customer", "allow_logout")
def logout():
    if ActionForm().validate_on_submit():
        portal_sessions.end(session.get(SESSION_KEY))
        session.clear()
        session[EVENT_KEY] = "logged-out"
        flash("You are signed out.", "info")
    return redirect(url_for(".login"))
