"""Security headers on every response (SPEC B-1).

`strict-origin-when-cross-origin`, not `no-referrer`: Flask-WTF checks the Referer over https, so
`no-referrer` would break every form in production. Admin pages may never be framed; the widget's
per-merchant `frame-ancestors` policy is set by the widget face itself.
"""
from flask import Response, request


def apply_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if request.path.startswith("/admin"):
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' https: data:; style-src 'self'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cache-Control", "no-store")
    return response
