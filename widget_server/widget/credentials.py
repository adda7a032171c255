"""Customer credential pages: create (C-3, I-3), self-enrolment (C-12), forgot and reset (C-4)."""
from flask import flash, g, redirect, request, url_for

from ..core.domain import DomainError
from ..core.extensions import limiter
from ..core.i18n import gettext as _
from ..customers import credentials, enrolment
from ..web.form_fields import show_errors
from . import bp
from .forms import CreateCredentialsForm, EmailRequestForm, ForgotForm, NewPasswordForm
from .rendering import render_widget

# Per client address (C-8): requests that send email, and posts of link forms.
REQUEST_LIMIT = "5 per minute;30 per hour"
LINK_LIMIT = "10 per minute"
# Per address typed (C-8): nobody floods one customer's inbox from many client addresses.
ACCOUNT_LIMIT = "3 per 10 minutes;10 per day"


def _account_key() -> str:
    login = (request.form.get("login") or "").strip().lower()[:254]
    return f"links:{g.get('merchant_slug')}:{login}"


def _form_errors(form, exc: DomainError):
    """Each problem next to its field; a field the form already refused keeps its own message
    (one message a field, e.g. "This field is required." rather than the rules too)."""
    untouched = {f: m for f, m in exc.errors.items()
                 if not (form[f] if f and f in form else form.password).errors}
    show_errors(form, DomainError.of(untouched) if untouched else exc, default="password")


def _open_link(token: str, purposes: tuple[str, ...], used_message: str, ask_again: str):
    """(token state, None) for a valid link, else (None, the answer): a used link lands on
    sign-in, an expired or unknown one offers a new link."""
    found = credentials.look_up(g.merchant.id, token, purposes)
    if found.state == "used":
        flash(used_message, "info")
        return None, redirect(url_for(".login"))
    if found.state != "valid":
        return None, render_widget("widget/link_expired.html",
                                   status=410 if found.token else 404,
                                   request_url=url_for(ask_again))
    return found, None


@bp.route("/credentials/<token>", methods=["GET", "POST"])
@limiter.limit(LINK_LIMIT, methods=["POST"])
def create_credentials(token: str):
    """Opening the link consumes nothing (mail scanners open links); saving does."""
    found, answer = _open_link(token, ("create", "invite"),
                               _("You have already signed up. Please sign in."), ".enrol")
    if answer is not None:
        return answer
    form = CreateCredentialsForm()
    if form.validate_on_submit():
        try:
            credentials.set_credentials(g.merchant, found.token, found.customer,
                                        username=form.username.data,
                                        password=form.password.data)
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            return render_widget("widget/signed_up.html")
    elif form.errors:  # the form refused a field: say what else is wrong too, all at once (C-9)
        problems = credentials.sign_up_problems(g.merchant, found.customer, form.username.data,
                                                form.password.data)
        if problems:
            _form_errors(form, DomainError.of(problems))
    return render_widget("widget/create_credentials.html", form=form,
                         invited=found.token.purpose == "invite",
                         rules=credentials.password_rules(g.merchant),
                         status=400 if form.errors else 200)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(LINK_LIMIT, methods=["POST"])
def reset(token: str):
    found, answer = _open_link(token, ("reset",),
                               _("This link no longer works: it was used, or your password "
                                 "changed since it was sent. Sign in, or ask for a new link."),
                               ".forgot")
    if answer is not None:
        return answer
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            credentials.reset_password(g.merchant, found.token, found.customer,
                                       form.password.data)
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            flash(_("Your password is changed. Please sign in with the new password."), "success")
            return redirect(url_for(".login"))
    return render_widget("widget/reset.html", form=form,
                         rules=credentials.password_rules(g.merchant),
                         status=400 if form.errors else 200)


def _request_page(action: str, form, template: str):
    if form.validate_on_submit():
        enrolment.request_link(g.merchant, action, form.login.data)
        return render_widget("widget/check_email.html", action=action)
    return render_widget(template, form=form, status=400 if form.errors else 200)


@bp.route("/enrol", methods=["GET", "POST"])
@limiter.limit(REQUEST_LIMIT, methods=["POST"])
@limiter.shared_limit(ACCOUNT_LIMIT, scope="link-request", methods=["POST"], key_func=_account_key)
def enrol():
    """Not enrolled? Type your email: the same answer whether or not it is known (C-12)."""
    return _request_page("enrol", EmailRequestForm(), "widget/enrol.html")


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(REQUEST_LIMIT, methods=["POST"])
@limiter.shared_limit(ACCOUNT_LIMIT, scope="link-request", methods=["POST"], key_func=_account_key)
def forgot():
    if g.profile.global_.forgot_password_url:
        return redirect(g.profile.global_.forgot_password_url)
    return _request_page("reset", ForgotForm(), "widget/forgot.html")
