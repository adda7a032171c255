"""Enqueueing, claiming and finishing jobs. Handlers register per kind with `@handler("email")`.

Claiming is safe with several workers at once: PostgreSQL uses `FOR UPDATE SKIP LOCKED`; SQLite
(which ignores SKIP LOCKED) an atomic `UPDATE … WHERE id = (SELECT … LIMIT 1) RETURNING`, issued
only once a plain SELECT has found something to claim: on SQLite any write statement takes the
database's one write lock, and an idle worker polls every second.

A claim is a lease (`JOB_LEASE_SECONDS`, 5 minutes by default) that the running job renews from a
heartbeat thread every third of it: a job is taken over only once its worker is gone (the process
died, or lost the database for a whole lease). Finishing is fenced by the latest lease the worker
set, so a worker that lost its job to another rolls its own outcome back.
"""
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import and_, or_, select, text, update

from ..core.database import utcnow
from ..core.extensions import db
from .models import DONE, FAILED, QUEUED, RUNNING, Job

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # the default; the app's JOB_LEASE_SECONDS sets it
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
    """30 s, 1 min, 2 min, … capped at 2 h (the exponent capped too: a job retried for days,
    a webhook's 44 attempts, would overflow timedelta)."""
    return min(BACKOFF_BASE * (2 ** min(max(attempts - 1, 0), 16)), BACKOFF_MAX)


def lease_duration() -> timedelta:
    """How long a claim holds without renewal: the app's JOB_LEASE_SECONDS."""
    seconds = current_app.config.get("JOB_LEASE_SECONDS")
    if seconds is None:
        return LEASE
    if float(seconds) <= 0:
        raise ValueError("JOB_LEASE_SECONDS must be positive")
    return timedelta(seconds=float(seconds))


def _claimable(now: datetime):
    return or_(and_(Job.status == QUEUED, Job.run_at <= now),
               and_(Job.status == RUNNING, Job.lease_until < now))


def _give_up_on_dead_runs(now: datetime) -> None:
    """A job whose worker died on every attempt (its lease expired at max attempts) fails, and
    its kind's failure hooks run as for any other failure.

    Looked for with a SELECT (no write lock on SQLite); the UPDATE runs only when one is found."""
    dead = (Job.status == RUNNING, Job.lease_until < now, Job.attempts >= Job.max_attempts)
    if db.session.scalar(select(Job.id).where(*dead).limit(1)) is None:
        return
    gone = db.session.scalars(update(Job).where(*dead)
                              .values(status=FAILED, finished_at=now, lease_until=None,
                                      last_error="the worker stopped during every attempt")
                              .returning(Job.id)).all()
    for job_id in gone:  # what mirrors a job's fate (an email's status, a scheduled payment)
        job = db.session.get(Job, job_id, populate_existing=True)
        for hook in FAILURE_HOOKS.get(job.kind, ()):
            hook(job)
    if gone:
        db.session.commit()


def claim(now: datetime | None = None) -> Job | None:
    """Take one due job (or one whose lease expired) for this worker, committed at once."""
    now = now or utcnow()
    lease_until = now + lease_duration()
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
        if session.scalar(pick) is None:  # nothing due: no write statement, no write lock
            session.rollback()
            return None
        job_id = session.scalar(
            update(Job).where(Job.id == pick.scalar_subquery(), _claimable(now))
            .values(status=RUNNING, lease_until=lease_until, attempts=Job.attempts + 1)
            .returning(Job.id))
        if job_id is None:
            session.rollback()
            return None
    session.commit()
    return session.get(Job, job_id, populate_existing=True)


class Heartbeat:
    """Renews a running job's lease every third of it, from a thread of its own on a connection
    of its own (never the job's session, whose transaction the handler is using), until stopped.

    Each renewal is conditional on the lease this worker last set, so a worker that lost its job
    to another never takes it back. `stop()` returns the values the job may hold while it is
    still this worker's: the latest lease set, any renewal under way, and any whose renewal failed
    in a way that leaves it unknown whether it was written (a lost connection). The finish is
    fenced by them. Claiming code other than `run_one` starts one per job it runs.
    """

    def __init__(self, job: Job, now: datetime, lease: timedelta | None = None):
        self.engine = db.engine
        self.job_id = job.id
        self.lease = lease or lease_duration()
        self._now, self._started = now, time.monotonic()  # the clock the claim was made on
        self._leases = [job.lease_until]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-job-{job.id}",
                                        daemon=True)

    def start(self) -> "Heartbeat":
        self._thread.start()
        return self

    def stop(self) -> list[datetime]:
        """No renewal starts after this; returns the leases the job may hold as this worker's
        (a renewal already under way is among them)."""
        with self._lock:
            self._stop.set()
            return list(self._leases)

    def join(self, timeout: float = 10) -> None:
        self._thread.join(timeout)

    def _clock(self) -> datetime:
        return self._now + timedelta(seconds=time.monotonic() - self._started)

    def _beat(self) -> None:
        while not self._stop.wait(self.lease.total_seconds() / 3):
            with self._lock:
                if self._stop.is_set():
                    return
                mine = list(self._leases)
                renewed = self._clock() + self.lease
                self._leases.append(renewed)
            try:
                held = self._renew(mine, renewed)
            except Exception:  # the database is away: try again at the next beat
                log.warning("job %s: renewing its lease failed", self.job_id, exc_info=True)
                continue
            with self._lock:
                self._leases = [renewed] if held else []
                if not held and self._stop.is_set():
                    return  # the job finished meanwhile
            if not held:
                log.warning("job %s: its lease was lost; its outcome will be rolled back",
                            self.job_id)
                return

    def _renew(self, mine: list[datetime], renewed: datetime) -> bool:
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # never wait long on a row lock
                conn.execute(text("SET LOCAL lock_timeout = '5s'"))
                conn.execute(text("SET LOCAL statement_timeout = '15s'"))
            done = conn.execute(update(Job.__table__).where(
                Job.__table__.c.id == self.job_id, Job.__table__.c.status == RUNNING,
                Job.__table__.c.lease_until.in_(mine)).values(lease_until=renewed))
            return done.rowcount == 1


class BatchHeartbeat(Heartbeat):
    """One heartbeat for the jobs a handler took together with `claim_batch` (they share one
    lease): each beat renews those still running with one UPDATE. `current()` gives the leases
    they may hold now, to fence each finish and to stop sending once the lease is lost."""

    def __init__(self, job_ids: list[int], lease_until: datetime, now: datetime):
        super().__init__(SimpleNamespace(id=job_ids[0], lease_until=lease_until), now)
        self.job_ids = list(job_ids)

    def current(self) -> list[datetime]:
        with self._lock:
            return list(self._leases)

    def _renew(self, mine: list[datetime], renewed: datetime) -> bool:
        table = Job.__table__
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL lock_timeout = '5s'"))
                conn.execute(text("SET LOCAL statement_timeout = '15s'"))
            done = conn.execute(update(table).where(
                table.c.id.in_(self.job_ids), table.c.status == RUNNING,
                table.c.lease_until.in_(mine)).values(lease_until=renewed))
            return done.rowcount > 0


def run_one(now: datetime | None = None) -> Job | None:
    """Claim and run one job; returns it (finished, rescheduled or failed), or None when idle."""
    now = now or utcnow()
    job = claim(now)
    if job is None:
        return None
    beat = Heartbeat(job, now).start()
    try:
        return _run(job, now, beat)
    finally:
        beat.stop()
        beat.join()


def _run(job: Job, now: datetime, beat: Heartbeat) -> Job:
    run = HANDLERS.get(job.kind)
    try:
        if run is None:
            raise PermanentError(f"no handler for job kind {job.kind!r}")
        run(job)
    except Exception as exc:
        mine = beat.stop()
        db.session.rollback()
        job = db.session.get(Job, job.id, populate_existing=True, with_for_update=True)
        if job.status != RUNNING or job.lease_until not in mine:
            db.session.rollback()
            return job  # another worker owns it now: its outcome stands
        _failed(job, exc, now, permanent=isinstance(exc, PermanentError))
    else:
        # Fenced: finish only while this worker still holds its lease (the latest its
        # heartbeat set). If the lease expired and another worker took the job, this run's
        # changes are rolled back, not doubled.
        mine = beat.stop()
        done = db.session.execute(update(Job).where(Job.id == job.id, Job.status == RUNNING,
                                                    Job.lease_until.in_(mine))
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
    lease_until = now + lease_duration()
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
    elif session.scalar(pick) is None:  # nothing due: no write statement, no write lock
        session.rollback()
        return []
    rows = session.execute(update(Job).where(Job.id.in_(pick), due)
                           .values(status=RUNNING, lease_until=lease_until,
                                   attempts=Job.attempts + 1)
                           .returning(Job.id, Job.lease_until, Job.attempts, Job.payload)
                           .execution_options(synchronize_session=False)).all()
    session.commit()
    return sorted(rows, key=lambda row: row.id)


def fail_claimed(job_id: int, my_lease: datetime | list[datetime], exc: Exception,
                 now: datetime | None = None) -> Job | None:
    """A job taken with `claim_batch` failed with `exc`: the same outcome as a handler raising it
    in `run_one` (backoff or failed, failure hooks), committed; nothing if the lease was lost.
    `my_lease`: the lease, or the leases its heartbeat may have set."""
    now = now or utcnow()
    mine = my_lease if isinstance(my_lease, list) else [my_lease]
    db.session.rollback()
    job = db.session.get(Job, job_id, populate_existing=True)
    if job is None or job.status != RUNNING or job.lease_until not in mine:
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

