"""Admin forms that are not generated from a settings declaration."""
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import InputRequired, Length

from ..core.validation import email_address, wtf
from ..web.form_fields import TrimmedEmailField


class LoginForm(FlaskForm):
    email = TrimmedEmailField("Email", validators=[InputRequired(), Length(max=254),
                                                   wtf(email_address)],
                              render_kw={"autocomplete": "username"})
    password = PasswordField("Password", validators=[InputRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})
