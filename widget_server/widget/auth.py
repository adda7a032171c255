"""Customer sign-in and sign-out inside the widget (C-1)."""
from flask import flash, g, redirect, session, url_for

from ..customers import auth as customer_auth
from ..customers import portal_sessions
from . import bp
from .access import profile_allows
from .context import SESSION_KEY
from .forms import ActionForm, LoginForm
from .rendering import render_widget

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
            session["event"] = "logged-in"
            return redirect(url_for(".overview"))
        form.password.errors.append(BAD_CREDENTIALS)
    return render_widget("widget/login.html", form=form, status=400 if form.errors else 200)


@bp.post("/logout")
@profile_allows("customer", "allow_logout")
def logout():
    if ActionForm().validate_on_submit():
        portal_sessions.end(session.get(SESSION_KEY))
        session.clear()
        session["event"] = "logged-out"
        flash("You are signed out.", "info")
    return redirect(url_for(".login"))
