"""One session cookie per face, chosen by path prefix (Flask opens the session before it matches
the URL, so the blueprint is not known yet).

- `/admin`: the admin's cookie, SameSite=Lax, Secure when the public URL is https.
- `/w/` and `/p/`: the widget's cookie, SameSite=None; Secure; Partitioned (CHIPS), because the
  widget lives in a cross-site iframe where browsers keep only partitioned third-party cookies;
  `__Host-` prefixed over https.
- everything else (API, loader, health, theme files): no session at all.

The cookie itself only carries a signed payload (CSRF token, the portal session id); who is signed
in is decided on the server (`customers.portal_sessions`), so a captured cookie can be revoked.
"""
import time
from dataclasses import dataclass

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature


@dataclass(frozen=True)
class CookieRule:
    name: str
    samesite: str
    partitioned: bool
    always_secure: bool
    host_prefix: bool
    path: str


ADMIN = CookieRule("ws_admin", "Lax", partitioned=False, always_secure=False, host_prefix=False,
                   path="/admin")
WIDGET = CookieRule("ws_widget", "None", partitioned=True, always_secure=True, host_prefix=True,
                    path="/")

RULES: tuple[tuple[str, CookieRule], ...] = (("/admin", ADMIN), ("/w/", WIDGET), ("/p/", WIDGET))


_PLAIN = {str, int, float, bool, type(None)}  # values a session may share (immutable)
_OPENED_KEPT = 4096


def rule_for(path: str) -> CookieRule | None:
    for prefix, rule in RULES:
        if path == prefix.rstrip("/") or path.startswith(prefix):
            return rule
    return None


class PathSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session with cookie attributes taken from `RULES`."""

    def _rule(self) -> CookieRule:
        rule = rule_for(request.path)
        assert rule is not None  # open_session returns a null session elsewhere
        return rule

    def __init__(self):
        super().__init__()
        # cookie value -> (its payload, when it was signed): see open_session
        self._opened: dict[tuple[object, str], tuple[dict, float]] = {}

    def open_session(self, app: Flask, request):
        """Flask's, with the payload of a cookie already verified kept by the cookie's exact
        value: a customer's pages send the same cookie until the session changes, and
        checking its signature and decoding its JSON again was a twentieth of a page's time
        (#26). Only verified cookies are kept, only payloads of plain values (a copy of the
        dict is handed out, so nothing is shared between requests), and their age is still
        checked against the session's lifetime on every request."""
        if rule_for(request.path) is None:
            return self.make_null_session(app)
        value = request.cookies.get(self.get_cookie_name(app))
        if not value or not app.secret_key:
            return super().open_session(app, request)
        max_age = app.permanent_session_lifetime.total_seconds()
        key = (app.secret_key, value)
        kept = self._opened.get(key)
        if kept is not None and 0 <= time.time() - kept[1] <= max_age:
            return self.session_class(kept[0])
        try:
            data, signed_at = self.get_signing_serializer(app).loads(
                value, max_age=int(max_age), return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if all(type(v) in _PLAIN for v in data.values()):
            if len(self._opened) >= _OPENED_KEPT:
                self._opened.clear()
            self._opened[key] = (dict(data), signed_at.timestamp())
        return self.session_class(data)

    def save_session(self, app: Flask, session, response) -> None:
        if self.is_null_session(session):
            return
        if not self.should_set_cookie(app, session):  # unchanged: no cookie to send (Flask's
            if session.accessed:                      # rule), and no need to look up its six
                response.vary.add("Cookie")           # attributes first (#26)
            return
        super().save_session(app, session, response)

    def get_cookie_name(self, app: Flask) -> str:
        rule = self._rule()
        if rule.host_prefix and request.is_secure:
            return f"__Host-{rule.name}"
        return rule.name

    def get_cookie_samesite(self, app: Flask) -> str:
        return self._rule().samesite

    def get_cookie_partitioned(self, app: Flask) -> bool:
        return self._rule().partitioned

    def get_cookie_secure(self, app: Flask) -> bool:
        rule = self._rule()
        return rule.always_secure or app.config["SESSION_COOKIE_SECURE"]

    def get_cookie_path(self, app: Flask) -> str:
        return self._rule().path

    def get_cookie_domain(self, app: Flask) -> None:
        return None  # host-only cookies: required by __Host- and tighter anyway
