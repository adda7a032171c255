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
from dataclasses import dataclass

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface


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

    def open_session(self, app: Flask, request):
        if rule_for(request.path) is None:
            return self.make_null_session(app)
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response) -> None:
        if self.is_null_session(session):
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
