"""The billing run (issue #21 item 4): every active order whose next billing date has come gets
its period's invoice, issued as any other (Invoice Issued email, pay link, autopay on the due
date).

It works in batches of `BATCH` orders, each its own transaction, walking the due orders by id
(keyset, never OFFSET) and forgetting each batch's objects: memory stays bounded however many
orders are due, and a crash loses at most the batch under way (whose periods are then still due).
On PostgreSQL each batch's orders are locked with `FOR UPDATE SKIP LOCKED`, so several workers
running at once share the run instead of queueing behind each other; on any database each
period is claimed by `orders.bill_due_period`'s conditional UPDATE, so nothing is billed twice.

"Due" is the merchant's own calendar: an order is billed once its next billing date has come in
the merchant's time zone.
"""
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..core.database import utcnow
from ..core.extensions import db
from ..jobs.models import Job
from ..jobs.periodic import daily
from ..jobs.queue import enqueue, handler
from ..tenancy.models import Merchant
from .models import ACTIVE, Order
from .orders import bill_due_period

log = logging.getLogger(__name__)

JOB = "orders.billing_run"
BATCH = 200


@dataclass
class RunResult:
    invoices: int = 0
    orders_seen: int = 0
    batches: int = 0
    invoice_ids: list[int] = field(default_factory=list)


def _due_ids(after_id: int, limit: int, merchant_id: int | None) -> list[int]:
    # Every time zone's today is at most a day after UTC's: a wider net, then each merchant's
    # own calendar decides.
    horizon = utcnow().date() + timedelta(days=1)
    stmt = (select(Order.id).where(Order.status == ACTIVE, Order.next_billing_date <= horizon,
                                   Order.id > after_id)
            .order_by(Order.id).limit(limit))
    if merchant_id is not None:
        stmt = stmt.where(Order.merchant_id == merchant_id)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(db.session.scalars(stmt))


def run(*, merchant_id: int | None = None, batch: int = BATCH) -> RunResult:
    """Bill every due period of every active order (of one merchant, or all)."""
    result = RunResult()
    after_id = 0
    while True:
        ids = _due_ids(after_id, batch, merchant_id)
        if not ids:
            db.session.rollback()
            return result
        orders = list(db.session.scalars(select(Order).where(Order.id.in_(ids))
                                         .options(selectinload(Order.lines))
                                         .order_by(Order.id)))
        merchants = {m.id: m for m in db.session.scalars(select(Merchant).where(
            Merchant.id.in_({o.merchant_id for o in orders})))}
        for order in orders:
            merchant = merchants[order.merchant_id]
            today = merchant.today()
            # an order several periods behind (the worker was down) catches up, one per period
            while (invoice := bill_due_period(merchant, order, today)) is not None:
                result.invoices += 1
                result.invoice_ids.append(invoice.id)
        result.orders_seen += len(orders)
        result.batches += 1
        after_id = ids[-1]
        db.session.commit()
        _forget_batch()


def _forget_batch() -> None:
    """Bounded memory: drop the batch's objects from the session (not the running job's row,
    which the queue finishes after the handler)."""
    for obj in list(db.session.identity_map.values()):
        if not isinstance(obj, Job):
            db.session.expunge(obj)


def request_run(merchant_id: int | None = None):
    """Enqueue a run now (the admin's "Run billing now"): the worker does it."""
    payload = {"merchant_id": merchant_id} if merchant_id else {}
    return enqueue(JOB, payload, merchant_id=merchant_id, max_attempts=3)


@handler(JOB)
def run_job(job) -> None:
    result = run(merchant_id=(job.payload or {}).get("merchant_id"))
    log.info("billing run: %s invoice(s) for %s order(s) in %s batch(es)", result.invoices,
             result.orders_seen, result.batches)


daily(JOB)
