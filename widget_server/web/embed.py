"""The embed loader (E-1) and the navigation targets it may send the top window to (E-6).

`/embed/…` carries no session. The loader's URL never changes, so it is served with a short
max-age and an ETag: sites pick up a new version by revalidation.
"""
from flask import Blueprint, abort, jsonify, send_file

from ..core.config import PROJECT_DIR
from ..profiles import services as profile_services
from ..tenancy import merchants

LOADER = PROJECT_DIR / "embed" / "loader.js"
MAX_AGE = 300

bp = Blueprint("embed", __name__, url_prefix="/embed")


@bp.get("/loader.js")
def loader():
    response = send_file(LOADER, mimetype="text/javascript", max_age=MAX_AGE, etag=True,
                         conditional=True)
    response.cache_control.public = True
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/targets/<merchant_slug>/<profile_slug>")
def navigation_targets(merchant_slug: str, profile_slug: str):
    """The URLs (without query) the loader may send the top window to: the Success URL."""
    merchant = merchants.find_by_slug(merchant_slug)
    profile = profile_services.find_by_slug(merchant, profile_slug) if merchant else None
    if profile is None:
        abort(404)
    targets = [url for url in (profile.payment.success_url,) if url]
    response = jsonify([url.split("?")[0].split("#")[0] for url in targets])
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.cache_control.max_age = 60
    return response
