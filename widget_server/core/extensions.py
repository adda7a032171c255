"""Every Flask extension, created unbound; `create_app` binds them to an application."""
from functools import partial, wraps

from flask import Response, request
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


def init_limiter(app) -> None:
    """Bind the limiter, its three request hooks passed over for an unlimited read: the
    limiter resolves its context, the request's endpoint and its limit lists before it asks
    the request filter, and again after the response, a twentieth of a widget page's time
    (#26). Flask-Limiter has no switch for its hooks, so they are wrapped where it registers
    them; every other request goes through them unchanged."""
    limiter.init_app(app)
    for registry in (app.before_request_funcs, app.after_request_funcs,
                     app.teardown_request_funcs):
        registry[None] = [_unless_unlimited_read(hook) if _is_limiters(hook) else hook
                          for hook in registry.get(None, [])]


def _is_limiters(hook) -> bool:
    owner = getattr(hook, "__self__", None) or (hook.args[0] if isinstance(hook, partial)
                                                and hook.args else None)
    return owner is limiter


def _unless_unlimited_read(hook):
    @wraps(hook)
    def hook_unless_unlimited_read(*args):
        if _an_unlimited_read():
            return args[0] if args and isinstance(args[0], Response) else None
        return hook(*args)

    return hook_unless_unlimited_read
