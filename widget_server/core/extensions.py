"""Every Flask extension, created unbound; `create_app` binds them to an application."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints make migrations reproducible and let batch mode rebuild SQLite tables.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate(render_as_batch=True, compare_type=True)
csrf = CSRFProtect()
# Admins only: its app-wide `current_user` context processor would load (and, with strong
# session protection, rewrite) the widget's session too, so the admin blueprint adds its own.
login_manager = LoginManager()
mail = Mail()
limiter = Limiter(key_func=get_remote_address)
