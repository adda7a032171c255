"""Every Flask extension, created unbound; `create_app` binds them to an application."""
from flask import request
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

# Blueprints whose limits are all on POSTs (the widget's sign-ins, codes and emails): a page
# they serve is read without consulting the limiter, which resolving no limit at all took a
# tenth of a widget page's time to find (issue #26). tests/test_rate_limits.py checks that
# none of their endpoints has a limit that counts a GET.
READS_UNLIMITED = frozenset({"widget", "portal", "embed", "themes", "health", "media"})


@limiter.request_filter
def _an_unlimited_read() -> bool:
    return request.method in ("GET", "HEAD") and request.blueprint in READS_UNLIMITED
