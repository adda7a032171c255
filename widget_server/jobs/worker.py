"""The worker loop behind `flask worker`: several can run at once, on any number of machines."""
import logging
import signal
import socket
import time

from ..core.extensions import db
from .periodic import Clock
from .queue import run_one

log = logging.getLogger(__name__)
NETWORK_TIMEOUT = 30  # seconds; smtplib (through Flask-Mail) has none of its own


def run_worker(*, once: bool = False, poll: float = 1.0, max_jobs: int | None = None) -> int:
    socket.setdefaulttimeout(NETWORK_TIMEOUT)
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    if not once:
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    ran = 0
    clock = Clock()
    while not stopping and (max_jobs is None or ran < max_jobs):
        try:
            if not once:  # `--once` runs what is queued; a running worker adds the daily jobs
                clock.tick()
            job = run_one()
        except Exception:  # a database hiccup must not kill the worker
            log.exception("worker: claiming or finishing a job failed")
            db.session.rollback()
            job = None
            if once:
                raise
        if job is not None:
            ran += 1 + job.batched
            log.info("job %s (%s): %s%s", job.id, job.kind, job.status,
                     f" and {job.batched} more in its batch" if job.batched else "")
            continue
        if once:
            break
        db.session.remove()
        time.sleep(poll)
    return ran
