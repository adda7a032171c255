"""Who may do what in the admin: sign-in and permission checks in one line above a view."""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from ..tenancy.models import Merchant
from ..tenancy.permissions import Permission


def permission_required(permission: Permission):
    """Require a signed-in admin whose role grants `permission`; 403 otherwise (T-2)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.can(permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def current_merchant() -> Merchant:
    """The signed-in admin's merchant: every admin query is scoped by it."""
    return current_user.merchant
