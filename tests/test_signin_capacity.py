"""Sign-in capacity (issue #19 item 13): argon2id at OWASP's parameters, old hashes upgraded at
sign-in, no database transaction open while a password is hashed, and a per-process bound on
hashes at once that answers "busy, try again" instead of queuing.

The bound is tested with a hasher that waits at a gate the test opens, and a wait of zero for a
slot: which call gets a slot and which is refused follows from the semaphore alone, not from
timing. (Throughput under a flood is measured by `make bench`, not here.)
"""
import threading
import time

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, text, update

from tests.conftest import widget_login
from widget_server.core import config, passwords
from widget_server.core.extensions import db
from widget_server.core.unit_of_work import end_read_only_transaction
from widget_server.customers.models import Customer

OLD_DEFAULTS = {"time_cost": 3, "memory_cost": 65536, "parallelism": 4}  # before issue #19


@pytest.fixture
def defaults(monkeypatch):
    for name in ("ARGON2_TIME_COST", "ARGON2_MEMORY_COST", "ARGON2_PARALLELISM",
                 "ARGON2_MAX_CONCURRENT", "ARGON2_MAX_WAITING", "ARGON2_MAX_WAIT_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    return {k: v for k, v in config.from_environment().items() if k.startswith("ARGON2_")}


def test_defaults_are_owasps_argon2id_parameters(defaults):
    # OWASP's Password Storage Cheat Sheet: argon2id, at least 19 MiB, 2 passes, 1 lane
    assert defaults["ARGON2_MEMORY_COST"] >= 19456 and defaults["ARGON2_TIME_COST"] >= 2
    assert (defaults["ARGON2_MEMORY_COST"], defaults["ARGON2_TIME_COST"],
            defaults["ARGON2_PARALLELISM"]) == (19456, 2, 1)
    assert defaults["ARGON2_MAX_CONCURRENT"] == 1 and defaults["ARGON2_MAX_WAITING"] == 1
    assert defaults["ARGON2_MAX_WAIT_SECONDS"] > 0


def test_a_hash_with_the_old_defaults_is_upgraded_at_sign_in(app, portal, defaults,
                                                             monkeypatch):
    """The real parameters, old and new (the one test that pays for them)."""
    p = portal()
    old = PasswordHasher(**OLD_DEFAULTS).hash(p.password)
    with app.app_context():
        db.session.execute(update(Customer).where(Customer.id == p.customer_id)
                           .values(password_hash=old))
        db.session.commit()
    for name, value in defaults.items():
        monkeypatch.setitem(app.config, name, value)
    assert widget_login(app.test_client(), p.base, p.username, p.password).status_code == 302
    with app.app_context():
        upgraded = db.session.get(Customer, p.customer_id).password_hash
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PasswordHasher(memory_cost=19456, time_cost=2, parallelism=1).verify(upgraded,
                                                                                p.password)


class RecordingHasher:
    """The cheap test hasher, noting for each hash whether the request's session had a
    transaction open and, on PostgreSQL, how many of the database's connections were idle in a
    transaction meanwhile (asked on a connection of its own)."""

    def __init__(self, real: PasswordHasher):
        self.real, self.in_transaction, self.idle_in_transaction = real, [], []

    def _note(self):
        self.in_transaction.append(db.session().in_transaction())
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                self.idle_in_transaction.append(connection.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'")))

    def verify(self, stored, password):
        self._note()
        return self.real.verify(stored, password)

    def hash(self, password):
        self._note()
        return self.real.hash(password)

    def check_needs_rehash(self, stored):
        return self.real.check_needs_rehash(stored)


@pytest.fixture
def install(monkeypatch):
    """`install(HasherClass)`: from now on every hash goes through it (call it after the
    fixtures that hash passwords have made their rows)."""
    installed = []

    def install(kind):
        hasher = kind(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        monkeypatch.setattr(passwords, "_hasher", lambda *parameters: hasher)
        installed.append(hasher)
        return hasher

    yield install
    for hasher in installed:
        if isinstance(hasher, GatedHasher):
            hasher.gate.set()  # never leave a thread waiting


def _failed_logins(app, customer_id):
    with app.app_context():
        return db.session.get(Customer, customer_id).failed_logins


def test_no_transaction_is_open_while_a_customer_password_is_hashed(app, portal, install):
    p = portal()
    recording = install(RecordingHasher)
    client = app.test_client()
    page = widget_login(client, p.base, p.username, "wrong-password")
    assert "Username/email or password is incorrect." in page.get_data(as_text=True)
    assert _failed_logins(app, p.customer_id) == 1  # the failure still counts, after the hash
    assert widget_login(client, p.base, "nobody", "wrong-password").status_code == 400
    assert widget_login(client, p.base, p.username, p.password).status_code == 302
    assert _failed_logins(app, p.customer_id) == 0
    assert len(recording.in_transaction) >= 3 and not any(recording.in_transaction)
    assert not any(recording.idle_in_transaction)  # PostgreSQL: no transaction left open


def test_no_transaction_is_open_while_an_admin_password_is_hashed(app, browser_like,
                                                                  make_merchant, install):
    _, email = make_merchant("acme")
    recording = install(RecordingHasher)
    assert browser_like.login(email, "wrong-password").status_code == 400
    assert browser_like.login("nobody@example.test", "owner-pass-123").status_code == 400
    assert browser_like.login(email, "owner-pass-123").status_code == 302
    assert len(recording.in_transaction) >= 3 and not any(recording.in_transaction)
    assert not any(recording.idle_in_transaction)  # PostgreSQL: no transaction left open


def test_a_transaction_that_wrote_is_not_ended(app, portal):
    p = portal()
    with app.app_context():
        db.session.scalar(select(Customer).where(Customer.id == p.customer_id))
        assert end_read_only_transaction() and not db.session().in_transaction()
        db.session.execute(update(Customer).where(Customer.id == p.customer_id)
                           .values(failed_logins=2))
        assert not end_read_only_transaction() and db.session().in_transaction()
        db.session.commit()
        customer = db.session.get(Customer, p.customer_id)
        customer.failed_logins = 3
        db.session.flush()
        assert not end_read_only_transaction()
        db.session.commit()
        assert db.session.get(Customer, p.customer_id).failed_logins == 3


class GatedHasher(RecordingHasher):
    """Each hash waits until the test opens the gate; counts the hashes running at once."""

    def __init__(self, real: PasswordHasher):
        super().__init__(real)
        self.gate, self.entered = threading.Event(), threading.Semaphore(0)
        self.lock, self.running, self.most = threading.Lock(), 0, 0

    def _note(self):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        self.entered.release()
        try:
            assert self.gate.wait(30), "the test never opened the gate"
        finally:
            with self.lock:
                self.running -= 1


def _slots(app, monkeypatch, size, wait_seconds=0.0, max_waiting=1_000):
    slots = passwords.HashingSlots(size, wait_seconds, max_waiting)
    monkeypatch.setitem(app.extensions, passwords.SLOTS_KEY, slots)
    return slots


def _hold_slots(app, hasher, count, stored):
    """`count` threads, each inside a hash (so holding a slot) until the gate opens."""
    results = []

    def sign_in():
        with app.app_context():
            results.append(passwords.verify(stored, "secret")[0])

    threads = [threading.Thread(target=sign_in) for _ in range(count)]
    for thread in threads:
        thread.start()
    for _ in threads:
        assert hasher.entered.acquire(timeout=30)
    return threads, results


def test_no_more_hashes_at_once_than_slots(app, monkeypatch, install):
    gated = install(GatedHasher)
    stored = gated.real.hash("secret")
    _slots(app, monkeypatch, 2)
    threads, results = _hold_slots(app, gated, 2, stored)
    with app.app_context():
        with pytest.raises(passwords.HashingBusy) as refused:
            passwords.verify(stored, "secret")  # both slots taken: refused, not queued
        with pytest.raises(passwords.HashingBusy):
            passwords.hash_password("another")
        assert refused.value.code == 503
        assert dict(refused.value.get_headers())["Retry-After"] == "1"
        gated.gate.set()
        for thread in threads:
            thread.join(30)
        assert passwords.verify(stored, "secret") == (True, None)  # slots free again
    assert results == [True, True] and gated.most == 2


def test_a_waiting_hash_gets_the_slot_when_it_frees(app, monkeypatch, install):
    gated = install(GatedHasher)
    stored = gated.real.hash("secret")
    _slots(app, monkeypatch, 1, wait_seconds=30)
    threads, results = _hold_slots(app, gated, 1, stored)
    waited = []

    def wait_then_verify():
        with app.app_context():
            waited.append(passwords.verify(stored, "secret")[0])

    waiter = threading.Thread(target=wait_then_verify)
    waiter.start()
    gated.gate.set()
    for thread in (*threads, waiter):
        thread.join(30)
    assert results == [True] and waited == [True] and gated.most == 1


def test_no_more_waiters_than_allowed(app, monkeypatch, install):
    """One hash running, one waiting (for up to 30 s): the next is refused at once."""
    gated = install(GatedHasher)
    stored = gated.real.hash("secret")
    slots = _slots(app, monkeypatch, 1, wait_seconds=30, max_waiting=1)
    threads, results = _hold_slots(app, gated, 1, stored)
    waited = []

    def wait_then_verify():
        with app.app_context():
            waited.append(passwords.verify(stored, "secret")[0])

    waiter = threading.Thread(target=wait_then_verify)
    waiter.start()
    for _ in range(3000):  # until the waiter is counted (a condition, not a duration)
        if slots._waiting == 1:
            break
        time.sleep(0.01)
    assert slots._waiting == 1
    with app.app_context(), pytest.raises(passwords.HashingBusy):
        passwords.verify(stored, "secret")
    gated.gate.set()
    for thread in (*threads, waiter):
        thread.join(30)
    assert results == [True] and waited == [True] and gated.most == 1


def test_sign_in_answers_busy_with_retry_after_and_counts_nothing(app, portal, monkeypatch,
                                                                   install, browser_like,
                                                                   make_merchant):
    p = portal()
    _, email = make_merchant("other")
    gated = install(GatedHasher)
    _slots(app, monkeypatch, 1)
    threads, _ = _hold_slots(app, gated, 1, gated.real.hash("secret"))
    client = app.test_client()
    assert client.get(f"{p.base}/login").status_code == 200  # pages need no slot
    answer = widget_login(client, p.base, p.username, "wrong-password")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "1"
    busy = answer.get_data(as_text=True)
    assert "Please try again in a moment." in busy and 'class="theme-' in busy  # the widget's
    assert f'href="{p.base}/login">Back to sign-in</a>' in busy
    assert _failed_logins(app, p.customer_id) == 0  # a busy answer is not a failed attempt
    admin = browser_like.login(email, "owner-pass-123")
    assert admin.status_code == 503 and admin.headers["Retry-After"] == "1"
    gated.gate.set()
    for thread in threads:
        thread.join(30)
    assert widget_login(client, p.base, p.username, p.password).status_code == 302
