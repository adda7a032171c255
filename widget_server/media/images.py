"""Image checks and storage. The type comes from the file's own bytes, never from its name or
the browser's claim; SVG is refused (it can carry script)."""
import hashlib

from flask import current_app
from sqlalchemy import select

from ..core.extensions import db
from .models import MediaAsset

MAX_BYTES = 512 * 1024
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def sniff(data: bytes) -> str | None:
    for magic, content_type in SIGNATURES:
        if data.startswith(magic):
            return content_type
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def max_bytes() -> int:
    return current_app.config.get("MEDIA_MAX_BYTES", MAX_BYTES)


def check_image(data: bytes) -> str:
    """The content type of an acceptable logo, or ValueError with the message for the field."""
    if not data:
        raise ValueError("The file is empty.")
    limit = max_bytes()
    if len(data) > limit:
        raise ValueError(f"The image is {-(-len(data) // 1024)} KB; the limit is "
                         f"{limit // 1024} KB.")
    content_type = sniff(data)
    if content_type is None:
        raise ValueError("Upload a PNG, JPEG or WebP image (SVG is not accepted).")
    return content_type


def store(merchant_id: int, data: bytes) -> str:
    """Keep an image (deduplicated per merchant by content); returns its reference `id/sha`."""
    content_type = check_image(data)
    digest = hashlib.sha256(data).hexdigest()
    asset = db.session.scalar(select(MediaAsset).where(MediaAsset.merchant_id == merchant_id,
                                                       MediaAsset.sha256 == digest))
    if asset is None:
        asset = MediaAsset(merchant_id=merchant_id, content_type=content_type, sha256=digest,
                           data=data)
        db.session.add(asset)
        db.session.flush()
    return f"{asset.id}/{digest[:16]}"


def load(reference: str) -> MediaAsset | None:
    asset_id, _, digest = (reference or "").partition("/")
    if not asset_id.isdigit() or len(asset_id) > 18:
        return None
    asset = db.session.get(MediaAsset, int(asset_id))
    if asset is None or not asset.sha256.startswith(digest) or len(digest) != 16:
        return None
    return asset
