"""`/media/<id>/<hash>`: immutable, cookie-less, never sniffed or run as a document."""
from flask import Blueprint, Response, abort

from .images import load

bp = Blueprint("media", __name__, url_prefix="/media")


@bp.get("/<id:asset_id>/<digest>")
def asset(asset_id: int, digest: str):
    image = load(f"{asset_id}/{digest}")
    if image is None:
        abort(404)
    response = Response(image.data, mimetype=image.content_type)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def media_url(reference: str | None) -> str | None:
    from flask import url_for

    if not reference or "/" not in reference:
        return None
    asset_id, digest = reference.split("/", 1)
    if not asset_id.isdigit():
        return None
    return url_for("media.asset", asset_id=int(asset_id), digest=digest)
