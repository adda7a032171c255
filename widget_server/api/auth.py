"""Bearer API keys on every API call (issue #25 item 1): a missing, malformed, unknown or
revoked key answers 401 JSON; the key's merchant confines every query; each key has its own
rate limit (`API_RATE_LIMIT`), answered 429 with `Retry-After`."""
from flask import abort, current_app, g, request
from flask_limiter.util import get_remote_address

from ..tenancy import api_keys


def bearer_secret() -> str | None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def rate_key() -> str:
    """Per key (its hash: the secret is not kept, even in the limiter), else per address."""
    secret = bearer_secret()
    if secret:
        return "api-key:" + api_keys.hash_secret(secret)[:32]
    return "api-addr:" + (get_remote_address() or "")


def rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", "100 per second;3000 per minute")


def authenticate() -> None:
    """The API blueprints' `before_request`."""
    key = api_keys.authenticate(bearer_secret())
    if key is None:
        abort(401, description="Send a live API key: `Authorization: Bearer sk_live_…`.")
    g.api_key = key
    g.api_key_merchant_id = key.merchant_id


def current_merchant():
    return g.api_key.merchant


def current_key_prefix() -> str:
    """The calling key as the audit log names it (its shown prefix, never the secret)."""
    return g.api_key.prefix
