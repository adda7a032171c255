"""Abandoned carts are forgotten (issue #22): the worker's daily job deletes carts untouched for
CART_RETENTION_DAYS with their lines, and keeps the ones in use."""
from datetime import timedelta

from sqlalchemy import select

from widget_server.catalogue.models import Product
from widget_server.commerce import cart_purge, carts
from widget_server.commerce.models import Cart, CartLine
from widget_server.core.database import utcnow
from widget_server.core.extensions import db
from widget_server.jobs import periodic, queue
from widget_server.tenancy.models import Merchant


def test_the_daily_job_deletes_idle_carts_and_keeps_fresh_ones(app, make_merchant):
    merchant_id, _ = make_merchant("acme")
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        mug = Product(merchant_id=merchant_id, sku="MUG", name="Mug", unit_price_minor=1000,
                      currency=merchant.currency, in_cart=True)
        db.session.add(mug)
        db.session.flush()
        for key in ("old", "fresh"):
            carts.add(merchant, carts.get_or_create(merchant, key), mug.id, 2)
        carts.find(merchant, "old").updated_at = utcnow() - timedelta(days=31)
        db.session.commit()
        assert cart_purge.JOB in periodic.DAILY  # enqueued with the day's first poll
        queue.enqueue(cart_purge.JOB, {})
        db.session.commit()
        assert queue.run_one(utcnow()).status == queue.DONE
        db.session.expire_all()
        assert db.session.scalars(select(Cart.key)).all() == ["fresh"]
        assert [line.quantity for line in db.session.scalars(select(CartLine))] == [2]
