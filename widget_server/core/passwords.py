"""Password hashing with argon2id (argon2-cffi), parameters from the app config.

`verify` also says when a stored hash was made with older parameters, so callers rehash on login.

Every hash and verification runs in one of the process's `ARGON2_MAX_CONCURRENT` hashing slots
(issue #19 item 13). argon2 releases the GIL and takes a core for its whole run; without a bound,
each of a worker's threads hashes at once during a flood of sign-ins, and page requests get a
sliver of the CPU. A request waiting for a slot holds one of the worker's threads, and pages
queue behind it: so at most `ARGON2_MAX_WAITING` wait, each for `ARGON2_MAX_WAIT_SECONDS` at
most, and any other hash raises `HashingBusy`, a 503 "busy, try again" with Retry-After, at
once (README, Benchmarks: the overview during a sign-in flood, with one waiter and with
unbounded waiters). The bound is per process: with W gunicorn workers at most
W x ARGON2_MAX_CONCURRENT hashes run on the machine at once.

Hash outside any database transaction: sign-in ends its read-only transaction first
(`unit_of_work.end_read_only_transaction`).
"""
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app
from werkzeug.exceptions import ServiceUnavailable

SLOTS_KEY = "argon2_slots"


class HashingBusy(ServiceUnavailable):
    """Every hashing slot of this process stayed taken for the whole wait."""

    description = "Many people are signing in right now. Please try again in a moment."


class HashingSlots:
    """At most `size` password hashes at once in this process, at most `max_waiting` requests
    waiting for one (each holds a worker thread the pages need), each for `wait_seconds` at
    most."""

    def __init__(self, size: int, wait_seconds: float, max_waiting: int = 1_000_000):
        self.size, self.wait_seconds, self.max_waiting = size, wait_seconds, max_waiting
        self._free = threading.BoundedSemaphore(size)
        self._lock, self._waiting = threading.Lock(), 0

    def _busy(self) -> HashingBusy:
        return HashingBusy(retry_after=max(1, math.ceil(self.wait_seconds)))

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._free.acquire(blocking=False):
            with self._lock:
                if self._waiting >= self.max_waiting:
                    raise self._busy()
                self._waiting += 1
            try:
                acquired = self._free.acquire(timeout=self.wait_seconds)
            finally:
                with self._lock:
                    self._waiting -= 1
            if not acquired:
                raise self._busy()
        try:
            yield
        finally:
            self._free.release()


def init_app(app: Flask) -> None:
    """One set of slots per app (per gunicorn worker process)."""
    app.extensions[SLOTS_KEY] = HashingSlots(max(1, app.config["ARGON2_MAX_CONCURRENT"]),
                                             app.config["ARGON2_MAX_WAIT_SECONDS"],
                                             max(0, app.config["ARGON2_MAX_WAITING"]))


def _slot():
    return current_app.extensions[SLOTS_KEY].slot()


@lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost,
                          parallelism=parallelism, type=Type.ID)


def hasher() -> PasswordHasher:
    cfg = current_app.config
    return _hasher(cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"], cfg["ARGON2_PARALLELISM"])


def hash_password(password: str) -> str:
    with _slot():
        return hasher().hash(password)


def verify(stored_hash: str | None, password: str) -> tuple[bool, str | None]:
    """Check a password; returns (ok, new_hash) where new_hash is set when a rehash is due.

    With no stored hash a dummy verification still runs, so an unknown account costs the same
    time as a wrong password and response timing reveals nothing.
    """
    ph = hasher()
    with _slot():
        if not stored_hash:
            with suppress(VerificationError):
                ph.verify(_dummy_hash(ph), password + "\0")
            return False, None
        try:
            ph.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False, None
        return True, (ph.hash(password) if ph.check_needs_rehash(stored_hash) else None)


_DUMMY: dict[int, str] = {}


def _dummy_hash(ph: PasswordHasher) -> str:
    key = id(ph)
    if key not in _DUMMY:
        _DUMMY[key] = ph.hash("dummy password for timing equality")
    return _DUMMY[key]
