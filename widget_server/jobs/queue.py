"""Enqueueing, claiming and finishing jobs. Handlers register per kind with `@handler("email")`.

Claiming is safe with several workers at once: PostgreSQL uses `FOR UPDATE SKIP LOCKED`; SQLite
(which ignores SKIP LOCKED) an atomic `UPDATE … WHERE id = (SELECT … LIMIT 1) RETURNING`. A claim
is a lease: a worker that dies leaves a job another worker takes once the lease has expired.
"""
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from ..core.database import utcnow
from ..core.extensions import db
from .models import DONE, FAILED, QUEUED, RUNNING, Job

LEASE = timedelta(minutes=5)
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=2)

HANDLERS: dict[str, Callable[[Job], None]] = {}


class RetryLater(Exception):
    """Raised by a handler for a temporary failure (mail server down): retried with backoff."""


class PermanentError(Exception):
    """Raised by a handler when retrying cannot help: the job fails at once."""


def handler(kind: str):
    def register(fn):
        HANDLERS[kind] = fn
        return fn

    return register


def enqueue(kind: str, payload: dict, *, merchant_id: int | None = None,
            run_at: datetime | None = None, max_attempts: int = 8) -> Job:
    """Add a job to the current transaction: it exists only if the caller's change commits."""
    job = Job(kind=kind, payload=payload, merchant_id=merchant_id, run_at=run_at or utcnow(),
              max_attempts=max_attempts, status=QUEUED)
    db.session.add(job)
    return job


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … capped at 2 h."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _claimable(now: datetime):
    return or_(and_(Job.status == QUEUED, Job.run_at <= now),
               and_(Job.status == RUNNING, Job.lease_until < now))


def _give_up_on_dead_runs(now: datetime) -> None:
    """A job whose worker died on every attempt (its lease expired at max attempts) fails."""
    gone = db.session.execute(update(Job).where(Job.status == RUNNING, Job.lease_until < now,
                                                Job.attempts >= Job.max_attempts)
                              .values(status=FAILED, finished_at=now, lease_until=None,
                                      last_error="the worker stopped during every attempt"))
    if gone.rowcount:
        db.session.commit()


def claim(now: datetime | None = None) -> Job | None:
    """Take one due job (or one whose lease expired) for this worker, committed at once."""
    now = now or utcnow()
    lease_until = now + LEASE
    session = db.session
    _give_up_on_dead_runs(now)
    if session.get_bind().dialect.name == "postgresql":
        job_id = session.scalar(select(Job.id).where(_claimable(now)).order_by(Job.run_at, Job.id)
                                .limit(1).with_for_update(skip_locked=True))
        if job_id is None:
            session.rollback()
            return None
        session.execute(update(Job).where(Job.id == job_id).values(
            status=RUNNING, lease_until=lease_until, attempts=Job.attempts + 1))
    else:
        pick = select(Job.id).where(_claimable(now)).order_by(Job.run_at, Job.id).limit(1)
        job_id = session.scalar(
            update(Job).where(Job.id == pick.scalar_subquery(), _claimable(now))
            .values(status=RUNNING, lease_until=lease_until, attempts=Job.attempts + 1)
            .returning(Job.id))
        if job_id is None:
            session.rollback()
            return None
    session.commit()
    return session.get(Job, job_id, populate_existing=True)


def run_one(now: datetime | None = None) -> Job | None:
    """Claim and run one job; returns it (finished, rescheduled or failed), or None when idle."""
    job = claim(now)
    if job is None:
        return None
    now = now or utcnow()
    my_lease = job.lease_until
    run = HANDLERS.get(job.kind)
    try:
        if run is None:
            raise PermanentError(f"no handler for job kind {job.kind!r}")
        run(job)
    except Exception as exc:
        db.session.rollback()
        job = db.session.get(Job, job.id, populate_existing=True)
        if job.status != RUNNING or job.lease_until != my_lease:
            return job  # another worker owns it now: its outcome stands
        _failed(job, exc, now, permanent=isinstance(exc, PermanentError))
    else:
        # Fenced: finish only while this worker still holds its lease. If the lease expired
        # and another worker took the job, this run's changes are rolled back, not doubled.
        done = db.session.execute(update(Job).where(Job.id == job.id, Job.status == RUNNING,
                                                    Job.lease_until == my_lease)
                                  .values(status=DONE, finished_at=now, lease_until=None,
                                          last_error=""))
        if done.rowcount != 1:
            db.session.rollback()
            return db.session.get(Job, job.id, populate_existing=True)
    db.session.commit()
    db.session.refresh(job)
    return job


def _failed(job: Job, exc: Exception, now: datetime, *, permanent: bool) -> None:
    job.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    job.lease_until = None
    if permanent or job.attempts >= job.max_attempts:
        job.status, job.finished_at = FAILED, now
    else:
        job.status, job.run_at = QUEUED, now + backoff(job.attempts)
    for hook in FAILURE_HOOKS.get(job.kind, ()):
        hook(job)


# Kinds that mirror a job's fate elsewhere (the email delivery log) register a hook here.
FAILURE_HOOKS: dict[str, list[Callable[[Job], None]]] = {}


def on_failure(kind: str):
    def register(fn):
        FAILURE_HOOKS.setdefault(kind, []).append(fn)
        return fn

    return register


def claim_batch(kind: str, *, merchant_id: int | None, limit: int,
                now: datetime | None = None) -> list:
    """Take up to `limit` further queued, due jobs of one kind and merchant for a handler that
    runs them in the same run (the email handler sends them over its SMTP connection).

    Claimed like `claim` (a lease each, committed at once; PostgreSQL `FOR UPDATE SKIP LOCKED`,
    SQLite one atomic `UPDATE … RETURNING`), so two workers never take one job; only queued jobs,
    never one whose lease expired (`claim` takes those over). Returns rows of (id, lease_until,
    attempts, payload) in id order; the handler finishes each itself, fenced by its lease, or
    hands a failure to `fail_claimed`.
    """
    now = now or utcnow()
    lease_until = now + LEASE
    session = db.session
    due = and_(Job.kind == kind, Job.merchant_id == merchant_id, Job.status == QUEUED,
               Job.run_at <= now)
    pick = select(Job.id).where(due).order_by(Job.run_at, Job.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        ids = list(session.scalars(pick.with_for_update(skip_locked=True)))
        if not ids:
            session.rollback()
            return []
        pick = ids
    rows = session.execute(update(Job).where(Job.id.in_(pick), due)
                           .values(status=RUNNING, lease_until=lease_until,
                                   attempts=Job.attempts + 1)
                           .returning(Job.id, Job.lease_until, Job.attempts, Job.payload)
                           .execution_options(synchronize_session=False)).all()
    session.commit()
    return sorted(rows, key=lambda row: row.id)


def fail_claimed(job_id: int, my_lease: datetime, exc: Exception,
                 now: datetime | None = None) -> Job | None:
    """A job taken with `claim_batch` failed with `exc`: the same outcome as a handler raising it
    in `run_one` (backoff or failed, failure hooks), committed; nothing if the lease was lost."""
    now = now or utcnow()
    db.session.rollback()
    job = db.session.get(Job, job_id, populate_existing=True)
    if job is None or job.status != RUNNING or job.lease_until != my_lease:
        return job
    _failed(job, exc, now, permanent=isinstance(exc, PermanentError))
    db.session.commit()
    return job


def run_due(now: datetime | None = None, limit: int = 1000) -> int:
    """Run every job that is due now (the worker's `--once`); returns how many ran, counting
    those a handler ran in the same run (`Job.batched`: a batch of emails)."""
    count = 0
    while count < limit and (job := run_one(now)) is not None:
        count += 1 + job.batched
    return count

