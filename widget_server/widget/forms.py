"""Forms of the customer's pages."""
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import EqualTo, InputRequired, Length

from ..web.form_fields import TrimmedField


class LoginForm(FlaskForm):
    login = TrimmedField("Username or email", validators=[InputRequired(), Length(max=254)],
                         render_kw={"autocomplete": "username", "autocapitalize": "none",
                                    "spellcheck": "false"})
    password = PasswordField("Password", validators=[InputRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})


class ActionForm(FlaskForm):
    """CSRF token only, for buttons such as Sign out."""


class CreateCredentialsForm(FlaskForm):
    username = TrimmedField("Username", validators=[InputRequired(), Length(max=150)],
                            render_kw={"autocomplete": "username", "autocapitalize": "none",
                                       "spellcheck": "false"})
    password = PasswordField("Password", validators=[InputRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Password again", validators=[
        InputRequired(), EqualTo("password", message="The two passwords are not the same.")],
        render_kw={"autocomplete": "new-password"})


class NewPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[InputRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("New password again", validators=[
        InputRequired(), EqualTo("password", message="The two passwords are not the same.")],
        render_kw={"autocomplete": "new-password"})


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField("Current password", validators=[InputRequired(), Length(max=1024)],
                            render_kw={"autocomplete": "current-password"})


class EmailRequestForm(FlaskForm):
    login = TrimmedField("Email address", validators=[InputRequired(), Length(max=254)],
                         render_kw={"autocomplete": "email", "type": "email"})


class ForgotForm(FlaskForm):
    login = TrimmedField("Username or email", validators=[InputRequired(), Length(max=254)],
                         render_kw={"autocomplete": "username"})
