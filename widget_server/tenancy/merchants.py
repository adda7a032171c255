"""Looking merchants up by their public slug (URLs of the widget and the loader)."""
from sqlalchemy import select

from ..core.extensions import db
from .models import Merchant


def find_by_slug(slug: str) -> Merchant | None:
    if not slug or len(slug) > 63:
        return None
    return db.session.scalar(select(Merchant).where(Merchant.slug == slug))
