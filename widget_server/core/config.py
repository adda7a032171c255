"""Configuration read from environment variables.

Every deployment knob lives here so that `create_app` never reads `os.environ` itself and tests can
inject their own mapping (`create_app({...})`).
"""
import os
import secrets
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", PROJECT_DIR / "instance"))
MIGRATIONS_DIR = PROJECT_DIR / "migrations"


def database_url(raw: str | None) -> str:
    """Normalise DATABASE_URL so PostgreSQL always goes through psycopg 3."""
    if not raw:
        return f"sqlite:///{INSTANCE_DIR / 'widget.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept under instance/.

    A generated key keeps `make run` zero-configuration without a well-known default that would
    let anyone forge sessions; production sets SECRET_KEY explicitly.
    """
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment() -> dict:
    """The application's settings, built from the process environment."""
    port = os.environ.get("PORT", "5000")
    public_url = os.environ.get("PUBLIC_URL", f"http://localhost:{port}").rstrip("/")
    return {
        "SECRET_KEY": secret_key(),
        "SQLALCHEMY_DATABASE_URI": database_url(os.environ.get("DATABASE_URL")),
        # liveness is checked on checkout without a round trip (core/database.py)
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        # Links that leave a request (emails, PDFs) are built from this, never from `Host`.
        "PUBLIC_URL": public_url,
        # Cookie names, SameSite and Partitioned are chosen per path in `sessions.py`.
        "SESSION_COOKIE_SECURE": public_url.startswith("https://"),
        "SESSION_COOKIE_HTTPONLY": True,
        # Customers' server-side portal sessions: idle and absolute lifetimes, in minutes.
        "PORTAL_SESSION_IDLE_MINUTES": int(os.environ.get("PORTAL_SESSION_IDLE_MINUTES", "60")),
        "PORTAL_SESSION_MAX_MINUTES": int(os.environ.get("PORTAL_SESSION_MAX_MINUTES", "720")),
        # Carts untouched this long are deleted by the daily job (their session is long gone).
        "CART_RETENTION_DAYS": int(os.environ.get("CART_RETENTION_DAYS", "30")),
        "WTF_CSRF_TIME_LIMIT": None,
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "portal@localhost"),
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        # Several deployments (or test runs) sharing one Redis keep their counters apart.
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "widget"),
        # Each API key's allowance (issue #25), in Flask-Limiter's notation.
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "100 per second;3000 per minute"),
        # argon2id cost: OWASP's first recommended set (19 MiB, 2 passes, 1 lane), about 16 ms
        # of one core here; its equal-strength alternative (46 MiB, 1 pass) costs 41 ms, and
        # the old default (64 MiB, 3 passes, 4 lanes) 140 ms of CPU (issue #19 item 13).
        "ARGON2_TIME_COST": int(os.environ.get("ARGON2_TIME_COST", "2")),
        "ARGON2_MEMORY_COST": int(os.environ.get("ARGON2_MEMORY_COST", "19456")),
        "ARGON2_PARALLELISM": int(os.environ.get("ARGON2_PARALLELISM", "1")),
        # Hashes at once per process, sign-ins waiting for one (each holds one of the worker's
        # threads), and how long one waits, before a sign-in answers "busy, try again" (503 with
        # Retry-After): with 4 threads a worker keeps 2 for the pages during a sign-in flood.
        "ARGON2_MAX_CONCURRENT": int(os.environ.get("ARGON2_MAX_CONCURRENT", "1")),
        "ARGON2_MAX_WAITING": int(os.environ.get("ARGON2_MAX_WAITING", "1")),
        "ARGON2_MAX_WAIT_SECONDS": float(os.environ.get("ARGON2_MAX_WAIT_SECONDS", "1")),
        "ADMIN_PAGE_SIZE": 25,
        # How many reverse proxies in front set X-Forwarded-For/-Proto (0: none, trust nothing).
        "PROXY_FIX_HOPS": int(os.environ.get("PROXY_FIX_HOPS", "0")),
        # "sandbox" (test cards, no network) or "stripe": the platform's Stripe account, each
        # merchant a connected account (Stripe-Account header) set in its configuration.
        "PAYMENT_GATEWAY": os.environ.get("PAYMENT_GATEWAY", "sandbox"),
        # The demo merchant's seed command and /demo/shop: on for `make run`, off in production.
        "DEMO_ENABLED": _bool("DEMO_ENABLED", False),
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_PUBLISHABLE_KEY": os.environ.get("STRIPE_PUBLISHABLE_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", ""),
        # A worker's claim on a job: renewed every third of it while the job runs, so another
        # worker takes the job over only this long after its worker is gone.
        "JOB_LEASE_SECONDS": int(os.environ.get("JOB_LEASE_SECONDS", "300")),
        # Webhooks (#25): an endpoint failing this many deliveries in a row is switched off; and
        # whether they may call private and loopback addresses (unset: only when PUBLIC_URL is
        # a loopback address, i.e. in development).
        "WEBHOOK_DISABLE_AFTER": int(os.environ.get("WEBHOOK_DISABLE_AFTER", "100")),
        "WEBHOOKS_ALLOW_PRIVATE": (_bool("WEBHOOKS_ALLOW_PRIVATE", False)
                                   if "WEBHOOKS_ALLOW_PRIVATE" in os.environ else None),
        # Largest request body (logo uploads are checked against 512 KB on their own).
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        # Service issues' attachments (#23): each at most this large, this many a message; the
        # forms that take them accept a body of all of them (`support.attachments`).
        "ISSUE_ATTACHMENT_MAX_BYTES": int(os.environ.get("ISSUE_ATTACHMENT_MAX_BYTES",
                                                         str(5 * 1024 * 1024))),
        "ISSUE_ATTACHMENT_MAX_FILES": int(os.environ.get("ISSUE_ATTACHMENT_MAX_FILES", "3")),
    }
