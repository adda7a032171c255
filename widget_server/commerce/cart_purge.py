"""Forgetting abandoned carts (issue #22): a cart is found only through the widget session that
made it, so once that session is long gone nobody can reach the cart again. The daily job deletes
carts untouched for CART_RETENTION_DAYS (30 by default, past the session cookie's month), lines
first, in one statement each, whatever their number. Carts hold no money and no prices."""
import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select

from ..core.database import utcnow
from ..core.extensions import db
from ..jobs.periodic import daily
from ..jobs.queue import handler
from .models import Cart, CartLine

JOB = "cart_purge"
log = logging.getLogger(__name__)


def purge(now: datetime | None = None) -> int:
    """Delete the carts idle for longer than the retention; how many. The job commits."""
    days = current_app.config.get("CART_RETENTION_DAYS", 30)
    cutoff = (now or utcnow()) - timedelta(days=days)
    stale = select(Cart.id).where(Cart.updated_at < cutoff).scalar_subquery()
    db.session.execute(delete(CartLine).where(CartLine.cart_id.in_(stale))
                       .execution_options(synchronize_session=False))
    gone = db.session.execute(delete(Cart).where(Cart.updated_at < cutoff)
                              .execution_options(synchronize_session=False))
    return gone.rowcount or 0


@handler(JOB)
def purge_job(job) -> None:
    log.info("cart purge: %s cart(s) idle past the retention deleted", purge())


daily(JOB)
