"""Forms of the customer's pages."""
from flask import current_app, g, session
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from wtforms import PasswordField
from wtforms.validators import EqualTo, InputRequired, Length

from ..core.i18n import lazy_gettext as _l
from ..web.form_fields import TrimmedField


class LoginForm(FlaskForm):
    login = TrimmedField(_l("Username or email"), validators=[InputRequired(), Length(max=254)],
                         render_kw={"autocomplete": "username", "autocapitalize": "none",
                                    "spellcheck": "false"})
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})


class ActionForm(FlaskForm):
    """CSRF token only, for buttons such as Sign out."""


_SIGNED: dict[tuple[object, str], str] = {}
_SIGNED_KEPT = 4096
FIELD = "csrf_token"  # flask-wtf's session key and g attribute (WTF_CSRF_FIELD_NAME's default)


def csrf_token() -> str:
    """flask-wtf's `generate_csrf`, its signature of a session's token kept once made: it signed
    the token anew for every page (an HMAC of a JSON dump, the Sign out form's share of a page,
    #26). With WTF_CSRF_TIME_LIMIT None (core/config.py), every signature of one token is
    valid for as long as the session holds it, so one is as good as another; with a time
    limit, each page signs anew as before."""
    config = current_app.config
    if FIELD in g:
        return g.get(FIELD)
    raw = session.get(FIELD)
    keep = (config.get("WTF_CSRF_TIME_LIMIT") is None and isinstance(raw, str)
            and config.get("WTF_CSRF_FIELD_NAME", FIELD) == FIELD)
    key = (config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key, raw)
    signed = _SIGNED.get(key) if keep else None
    if signed is not None:
        setattr(g, FIELD, signed)
        return signed
    signed = generate_csrf()
    if keep and session.get(FIELD) == raw:
        if len(_SIGNED) >= _SIGNED_KEPT:
            _SIGNED.clear()
        _SIGNED[key] = signed
    return signed


class TokenOnly:
    """An `ActionForm` as a page renders it (`form.hidden_tag()`), without making one: a
    FlaskForm takes 0.2 ms to build, a tenth of the cart page (#26). Posts are still checked
    by `ActionForm().validate_on_submit()`."""

    @staticmethod
    def hidden_tag() -> Markup:
        return Markup('<input id="csrf_token" name="csrf_token" type="hidden" value="%s">'
                      ) % csrf_token()


class CreateCredentialsForm(FlaskForm):
    username = TrimmedField(_l("Username"), validators=[InputRequired(), Length(max=150)],
                            render_kw={"autocomplete": "username", "autocapitalize": "none",
                                       "spellcheck": "false"})
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Password again"), validators=[
        InputRequired(), EqualTo("password", message=_l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password"})


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[InputRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("New password again"), validators=[
        InputRequired(), EqualTo("password", message=_l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password"})


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(_l("Current password"), validators=[InputRequired(), Length(max=1024)],
                            render_kw={"autocomplete": "current-password"})


class EmailRequestForm(FlaskForm):
    login = TrimmedField(_l("Email address"), validators=[InputRequired(), Length(max=254)],
                         render_kw={"autocomplete": "email", "type": "email"})


class ForgotForm(FlaskForm):
    login = TrimmedField(_l("Username or email"), validators=[InputRequired(), Length(max=254)],
                         render_kw={"autocomplete": "username"})
