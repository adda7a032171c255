"""Job leases (#19): a running job renews its lease, so only a job whose worker is gone is
taken over; the lease is configured; an idle poll writes nothing (SQLite's one write lock)."""
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from widget_server.core.database import utcnow
from widget_server.core.extensions import db
from widget_server.jobs import queue
from widget_server.jobs.models import Job

LONG_RUNS: list[int] = []
LONG_STARTED = threading.Event()
LONG_SECONDS = 3.0


@queue.handler("test.long")
def _long(job):
    LONG_RUNS.append(job.id)
    LONG_STARTED.set()
    time.sleep(LONG_SECONDS)


@queue.handler("test.quick")
def _quick(job):
    LONG_RUNS.append(job.id)


@pytest.fixture
def short_lease(app, monkeypatch):
    def set_lease(seconds):
        monkeypatch.setitem(app.config, "JOB_LEASE_SECONDS", seconds)

    return set_lease


def test_a_job_running_longer_than_its_lease_renews_it_and_runs_once(app, ctx, short_lease):
    """Worker A runs a job for 2.5 leases while worker B polls all along: B never takes it
    over, the lease moves forward under B's eyes, and A's finish (fenced by its latest lease)
    marks the job done after one attempt."""
    short_lease(1.2)
    LONG_RUNS.clear()
    LONG_STARTED.clear()
    job = queue.enqueue("test.long", {})
    db.session.commit()
    job_id = job.id
    finished = threading.Event()
    errors, outcome, leases_seen = [], [], set()

    def worker_a():
        try:
            with app.app_context():
                outcome.append(queue.run_one())
                db.session.remove()
        except Exception as exc:
            errors.append(exc)
        finally:
            finished.set()

    def worker_b():
        try:
            with app.app_context():
                assert LONG_STARTED.wait(timeout=10)
                while not finished.is_set():
                    queue.run_one()
                    leases_seen.add(db.session.scalar(
                        select(Job.lease_until).where(Job.id == job_id)))
                    db.session.rollback()
                    time.sleep(0.05)
                db.session.remove()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker_a), threading.Thread(target=worker_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert [job_id] == LONG_RUNS  # once: B never took over a job whose worker was alive
    leases_seen.discard(None)
    assert len(leases_seen) >= 3  # renewed about every lease/3 while it ran
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert (job.status, job.attempts, job.lease_until) == ("done", 1, None)


def test_a_dead_worker_is_taken_over_after_the_configured_lease(app, ctx, short_lease):
    short_lease(30)
    LONG_RUNS.clear()
    queue.enqueue("test.quick", {})
    db.session.commit()
    now = utcnow()
    claimed = queue.claim(now)  # this worker dies here: nothing renews its lease
    assert claimed.lease_until == now + timedelta(seconds=30)
    assert queue.run_due(now + timedelta(seconds=29)) == 0  # the lease still holds
    assert queue.run_due(now + timedelta(seconds=31)) == 1  # then it is taken over
    assert [claimed.id] == LONG_RUNS
    job = db.session.get(Job, claimed.id, populate_existing=True)
    assert (job.status, job.attempts) == ("done", 2)


def test_the_lease_comes_from_the_environment(monkeypatch):
    from widget_server.core.config import from_environment

    assert from_environment()["JOB_LEASE_SECONDS"] == 300
    monkeypatch.setenv("JOB_LEASE_SECONDS", "90")
    assert from_environment()["JOB_LEASE_SECONDS"] == 90


WRITES = ("insert", "update", "delete")


def _writes(counter):
    return [s for s in counter.statements if s.lstrip().lower().startswith(WRITES)]


def test_a_poll_with_nothing_to_do_writes_nothing(app, ctx, count_queries):
    """On SQLite a write statement takes the database's one write lock, even when it changes
    no row: an idle worker polling every second must not."""
    queue.enqueue("test.quick", {})  # running, its lease not expired
    db.session.commit()
    now = utcnow()
    assert queue.claim(now) is not None
    queue.enqueue("test.quick", {}, run_at=now + timedelta(minutes=5))  # not due yet
    db.session.commit()
    with count_queries() as counter:
        assert queue.claim(now + timedelta(seconds=1)) is None
        assert queue.run_one(now + timedelta(seconds=2)) is None
    assert counter.count > 0
    assert _writes(counter) == []


def test_a_claim_writes_only_the_claim_when_nothing_expired(app, ctx, count_queries):
    queue.enqueue("test.quick", {})
    db.session.commit()
    with count_queries() as counter:
        assert queue.claim() is not None
    assert len(_writes(counter)) == 1


TAKEN: dict = {}


@queue.handler("test.taken")
def _taken_meanwhile(job):
    """The first run: while it runs, another worker (whose clock is past the lease) takes the
    job over and finishes it; the second run (that worker's) only records itself."""
    LONG_RUNS.append(job.id)
    if len(LONG_RUNS) > 1:
        return
    db.session.add(Job(kind="test.marker", payload={}, status="done"))  # this run's change
    app = TAKEN["app"]

    def other_worker():
        with app.app_context():
            TAKEN["other"] = queue.run_one(utcnow() + queue.lease_duration() * 2).status
            db.session.remove()

    thread = threading.Thread(target=other_worker)
    thread.start()
    thread.join(timeout=20)


def test_a_worker_that_lost_its_lease_rolls_its_outcome_back(app, ctx):
    """The fence takes the heartbeat's leases into account and still refuses another's."""
    LONG_RUNS.clear()
    TAKEN.clear()
    TAKEN["app"] = app
    queue.enqueue("test.taken", {})
    db.session.commit()
    job = queue.run_one()
    assert TAKEN["other"] == "done" and len(LONG_RUNS) == 2
    assert (job.status, job.attempts) == ("done", 2)  # the other worker's outcome stands
    markers = db.session.scalars(select(Job).where(Job.kind == "test.marker")).all()
    assert markers == []  # the first run's change was rolled back


def test_a_job_given_up_by_the_sweep_runs_its_failure_hooks(app):
    """A job whose worker died on every attempt failed without its kind's hooks: an email
    stayed "queued" in the delivery log, a scheduled payment "scheduled" for ever."""
    from datetime import UTC, datetime, timedelta

    from widget_server.core.extensions import db
    from widget_server.jobs import queue
    from widget_server.jobs.models import Job

    seen = []
    queue.FAILURE_HOOKS.setdefault("test.dies", []).append(lambda job: seen.append(job.id))
    try:
        with app.app_context():
            job = queue.enqueue("test.dies", {}, max_attempts=1)
            db.session.commit()
            now = datetime.now(UTC)
            assert queue.claim(now).id == job.id  # a worker takes it and dies
            queue.claim(now + timedelta(days=1))  # the sweep, at the next claim
            assert db.session.get(Job, job.id, populate_existing=True).status == "failed"
            assert seen == [job.id]
    finally:
        queue.FAILURE_HOOKS["test.dies"].pop()
