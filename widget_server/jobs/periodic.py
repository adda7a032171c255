"""Daily jobs (issue #21: the billing run): each worker's loop asks `tick()` once per poll;
the first poll of a new UTC day enqueues each registered daily job unless one was already
enqueued that day (by this or another worker, or on demand from the admin for every merchant;
one merchant's "Run billing now" does not count).

Two workers starting at the same moment may both enqueue a day's run: harmless, because daily
jobs are idempotent and share their work (the billing run claims each order's period).
"""
from collections.abc import Callable
from datetime import date, datetime, time

from sqlalchemy import select

from ..core.database import utcnow
from ..core.extensions import db
from .models import Job
from .queue import enqueue

DAILY: dict[str, Callable[[], dict]] = {}  # kind → its payload


def daily(kind: str, payload: Callable[[], dict] = dict):
    DAILY[kind] = payload


class Clock:
    """Per worker: which UTC day it last enqueued the daily jobs for (nothing is written on
    the other polls of the day, so an idle worker takes no write lock on SQLite)."""

    def __init__(self):
        self.done_for: date | None = None

    def tick(self, now: datetime | None = None) -> list[Job]:
        now = now or utcnow()
        if self.done_for == now.date():
            return []
        midnight = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
        made = []
        for kind, payload in DAILY.items():
            # a merchant's own run on demand (its job names the merchant) is not the day's
            already = db.session.scalar(select(Job.id).where(
                Job.kind == kind, Job.merchant_id.is_(None), Job.created_at >= midnight).limit(1))
            if already is None:
                made.append(enqueue(kind, payload(), max_attempts=3))
        if made:
            db.session.commit()
        else:
            db.session.rollback()
        self.done_for = now.date()
        return made
