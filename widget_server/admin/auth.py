"""Admin sign-in and sign-out (T-2) with Flask-Login; the session is revocable server-side."""
from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..core.extensions import limiter, login_manager
from ..core.validation import local_path
from ..tenancy import admins
from . import bp
from .forms import LoginForm

login_manager.login_view = "admin.login"
login_manager.login_message = "Please sign in to continue."
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_admin(user_id: str):
    return admins.load_session_user(user_id)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("admin.index"))
    form = LoginForm()
    if form.validate_on_submit():
        admin = admins.authenticate(form.email.data, form.password.data)
        if admin is None:
            form.password.errors.append("Email or password is incorrect.")
        else:
            # A fresh session (and CSRF secret) on every sign-in, as on the customer face:
            # nothing planted in the cookie before sign-in survives it (issue #19-12).
            session.clear()
            login_user(admin)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("admin/login.html", form=form), (200 if not form.errors else 400)


@bp.post("/logout")
@login_required
def logout():
    # Rotating the token makes this session's cookie worthless even if it was captured.
    admins.end_sessions(current_user)
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("admin.login"))


def _safe_next(target: str | None) -> str:
    """Only follow `next` to a path inside the admin: no open redirect."""
    return target if local_path(target, "/admin") else url_for("admin.index")


