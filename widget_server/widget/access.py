"""Widget rules in one line above a view: sign-in required, and profile settings enforced on the
server (P-8) so a switched-off action is refused even when the request is crafted by hand."""
from functools import wraps

from flask import abort, g, redirect, url_for


def customer_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.customer is None:
            return redirect(url_for(".login"))
        return view(*args, **kwargs)

    return wrapped


def profile_allows(tab: str, setting: str):
    """Refuse (403) unless the profile's `tab.setting` is on, e.g. ("customer", "allow_logout")."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not getattr(getattr(g.profile, tab), setting):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
