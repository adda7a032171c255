"""Live preview of a profile (P-9): a signed, short-lived token lets the admin page frame the
widget's preview page, which shows the profile's look with sample data and no customer."""
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "profile-preview"
MAX_AGE = 3600
# Global-tab settings the preview takes from the query string, so it follows unsaved changes.
LOOK_KEYS = ("theme", "primary_color", "text_color", "background_color", "font")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(profile) -> str:
    return _serializer().dumps({"m": profile.merchant_id, "p": profile.id})


def check_token(token: str | None, profile) -> bool:
    if not token:
        return False
    try:
        data = _serializer().loads(token, max_age=MAX_AGE)
    except BadSignature:
        return False
    return data == {"m": profile.merchant_id, "p": profile.id}
