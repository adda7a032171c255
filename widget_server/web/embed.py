"""The embed loader (E-1) and the navigation targets it may send the top window to (E-6).

`/embed/…` carries no session. The loader's URL never changes, so it is served with a short
max-age and an ETag: sites pick up a new version by revalidation.
"""
import hashlib
from functools import lru_cache

from flask import Blueprint, Response, abort, jsonify, request

from ..core.config import PROJECT_DIR
from ..profiles import services as profile_services
from ..tenancy import merchants

LOADER = PROJECT_DIR / "embed" / "loader.js"
MAX_AGE = 300

bp = Blueprint("embed", __name__, url_prefix="/embed")


@lru_cache(maxsize=1)
def _loader_file(modified: float) -> tuple[bytes, str]:
    """The loader and its ETag, read once per version of the file (every site's every page
    load asks for it: `send_file` opened, hashed and streamed it each time)."""
    body = LOADER.read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:32]


@bp.get("/loader.js")
def loader():
    body, etag = _loader_file(LOADER.stat().st_mtime)
    response = Response(body, mimetype="text/javascript")
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    response.make_conditional(request)
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
