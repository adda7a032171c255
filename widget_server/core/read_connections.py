"""The connections a request's Reads (`core.reads`) run on, and how they are kept.

Before the session's transaction has sent anything, a request's Reads run on a pooled
connection of their own; when the request ends that connection stays with the thread for its
next request instead of going back to the pool. On PostgreSQL these Reads run outside a
transaction (autocommit), and a cursor is kept on each connection. Each of these saved a
twentieth of a signed-in page or more (issue #26); the reasons are given section by section.
"""
import os
import threading
import time
import weakref

from flask import g, has_app_context, has_request_context
from sqlalchemy import Engine, event, exc
from sqlalchemy.pool import Pool

from .database import RETURNED_AT, check_liveness
from .extensions import db

# psycopg reads a statement's whole result at execute (a client-side cursor), so a cursor kept
# on the connection for the next Read holds nothing on the server, and keeps the loaders it
# made for its columns: a new cursor made them anew, 15 us of a statement (#26). sqlite3 steps
# through rows as they are fetched (a row left unread keeps its read snapshot): closed after
# each Read.
CURSORS_KEPT = frozenset({"postgresql"})
_CURSOR = "reads.cursor"  # the pool record's info: the cursor kept for Reads on that connection


def kept_cursor(info: dict, driver_connection):
    cursor = info.get(_CURSOR)
    if cursor is None or cursor.closed or cursor.connection is not driver_connection:
        cursor = info[_CURSOR] = driver_connection.cursor()
    return cursor


# --- the connection a Read runs on ---------------------------------------------------------------
# Once the session's transaction runs on a connection, that connection: a Read sees what the
# request has written. Before it (a page that only reads, or the reads before its first
# write), a connection of the pool's kept for the request's Reads: the session's connection
# cost an engine Connection, its transaction and their teardown, a twentieth of a page (#26).
# Outside a transaction a Read sees what is committed, as it did: on SQLite a SELECT begins no
# transaction, and on PostgreSQL these reads run in autocommit (below).
#
# When the request ends (or the session's transaction: nothing is held through what follows
# a commit), that connection stays with the thread for its next request's Reads instead of
# going back to the pool: checking it out and in again, with its events, cost a twentieth of a
# signed-in page on SQLite (#26). It is kept only while it holds nothing open (no
# transaction), checked for liveness when taken again as a checkout would check it, and goes
# back to the pool when its thread ends or the engine's pool is replaced. So each thread
# holds one connection of the pool for its Reads, and a request that writes one more.
READ_CONNECTION = "_reads_connection"  # g: the pool's connection of this request's Reads
# session.info: the connections the session's transaction runs on (kept by core.unit_of_work):
# a transaction the session began without one (attaching an entity begins one) has sent nothing
SESSION_CONNECTIONS = "unit_of_work.connections"


class _Pooled:
    """The pool's connection of a request's Reads, with its engine and pool."""

    def __init__(self, engine: Engine):
        self.engine, self.pool = engine, engine.pool
        self.fairy = engine.raw_connection()
        self.dbapi_connection = self.fairy.dbapi_connection
        self.info = self.fairy.info


def connection_for(session):
    """(the session's Connection or None, what the Read runs on: its pool connection)."""
    if session.info.get(SESSION_CONNECTIONS) or not has_request_context():
        connection = session.connection()
        return connection, connection.connection
    pooled = g.get(READ_CONNECTION)
    if pooled is None:
        pooled = _take(db.engine)
        setattr(g, READ_CONNECTION, pooled)
    return None, pooled


def lost(pooled: _Pooled, error) -> None:
    g.pop(READ_CONNECTION, None)
    pooled.fairy.invalidate(error)


def release_read_connection(_error=None) -> None:
    """At the request's end, or the end of the session's transaction: the Reads' connection
    stays with the thread (see above), or goes back to the pool."""
    if not has_app_context():
        return
    pooled = g.pop(READ_CONNECTION, None)
    if pooled is not None:
        _keep(pooled)


class _Kept:
    """A thread's connections kept between requests, one per engine (a test or the bench may
    serve two apps from one thread in turn), the most recently used last."""

    def __init__(self, thread: threading.Thread):
        self.thread = weakref.ref(thread)
        self.by_engine: dict[Engine, _Pooled] = {}


_PER_THREAD = 2  # engines a thread keeps a connection for; the least recent one goes back
_KEPT: dict[int, _Kept] = {}  # thread id -> what that thread keeps (only it touches them)


def _kept_here(create: bool = False) -> _Kept | None:
    """This thread's `_Kept` (a thread id is reused after a thread ends: a dead thread's are
    not this one's, and its finalizer gives them back)."""
    thread = threading.current_thread()
    kept = _KEPT.get(thread.ident)
    if kept is not None and kept.thread() is thread:
        return kept
    if not create:
        return None
    kept = _KEPT[thread.ident] = _Kept(thread)
    weakref.finalize(thread, _thread_ended, thread.ident, kept)
    return kept


def _take(engine: Engine) -> _Pooled:
    """This thread's kept connection for this engine if it is still the engine's pool's and
    alive, else one from the pool."""
    here = _kept_here()
    kept = here.by_engine.pop(engine, None) if here is not None else None
    if kept is not None:  # (a forked child keeps none of its parent's: see `_forked`)
        if kept.pool is not engine.pool:  # the engine's pool was replaced (dispose)
            kept.fairy.invalidate()
        else:
            try:
                check_liveness(kept.dbapi_connection, kept.info)
                return kept
            except exc.DisconnectionError as error:
                kept.fairy.invalidate(error)
    return _Pooled(engine)


def _keep(pooled: _Pooled) -> None:
    """Keep `pooled` for this thread's next Reads if it holds nothing open; else it goes
    back to the pool (which ends what it holds)."""
    here = _kept_here(create=True)
    if pooled.engine in here.by_engine or not _holds_nothing_open(pooled.dbapi_connection):
        pooled.fairy.close()
        return
    pooled.info[RETURNED_AT] = time.monotonic()  # (idle since: when to ping, as the pool does)
    here.by_engine[pooled.engine] = pooled
    if len(here.by_engine) > _PER_THREAD:
        _give_back(here.by_engine.pop(next(iter(here.by_engine))))


def _give_back(pooled: _Pooled) -> None:
    """Back to its pool; closed instead when the engine has replaced that pool (dispose), which
    would otherwise leave it open for the garbage collector."""
    if pooled.pool is pooled.engine.pool:
        pooled.fairy.close()
    else:
        pooled.fairy.invalidate()


_FORGOTTEN: list[_Pooled] = []  # a parent process's, never touched (see `_forked`)


def _forked() -> None:
    """In a child process: the parent's kept connections are the parent's (closing one would
    end the parent's database session), so they are only set aside."""
    for kept in _KEPT.values():
        _FORGOTTEN.extend(kept.by_engine.values())
        kept.by_engine.clear()
    _KEPT.clear()


os.register_at_fork(after_in_child=_forked)


def kept_connection():
    """The driver connection this thread keeps for its Reads between requests (on the app's
    engine in an app context, else the one it used last; None when it keeps none, or while a
    request uses it): for diagnostics and tests."""
    here = _kept_here()
    if here is None or not here.by_engine:
        return None
    kept = (here.by_engine.get(db.engine) if has_app_context()
            else list(here.by_engine.values())[-1])
    return kept.dbapi_connection if kept is not None else None


def _thread_ended(ident: int, kept: _Kept) -> None:
    """A thread's end: what it kept goes back to the pool."""
    if _KEPT.get(ident) is kept:
        del _KEPT[ident]
    while kept.by_engine:
        _give_back(kept.by_engine.popitem()[1])


def _holds_nothing_open(driver_connection) -> bool:
    """No transaction open on the driver's connection (psycopg's status, sqlite3's flag)."""
    status = _transaction_status(driver_connection)
    if status is not None:
        return status == "IDLE"
    return not getattr(driver_connection, "in_transaction", True)


def _transaction_status(driver_connection) -> str | None:
    """psycopg's transaction status ("IDLE", "INTRANS", ...); None for drivers without one."""
    status = getattr(getattr(driver_connection, "info", None), "transaction_status", None)
    return status.name if status is not None else None


# --- reads outside a transaction (PostgreSQL) ---------------------------------------------------
# A request's Reads that come before any other statement run in autocommit on PostgreSQL: no
# BEGIN before them and no COMMIT at the end, two round trips of the three a signed-in page's
# identifying statement took (#26). Under READ COMMITTED, PostgreSQL's default and ours, every
# statement of a transaction takes a snapshot of its own anyway, so a page reads what it read
# before. The first statement SQLAlchemy sends (a write, or any query of the ORM's) turns
# autocommit off first, so it begins the request's transaction as before; a connection going back
# to the pool goes back as it came. sqlite3 begins a transaction before a write only, so a
# SELECT there has always run this way.
READS_OUTSIDE = "reads.outside_transaction"  # the pool record's info: autocommit is ours


def read_outside_transaction(record_info: dict, driver_connection) -> None:
    if record_info.get(READS_OUTSIDE) or getattr(driver_connection, "autocommit", True):
        return  # already on; or a driver without the switch, or autocommit set by someone else
    if _transaction_status(driver_connection) == "IDLE":
        driver_connection.autocommit = True
        record_info[READS_OUTSIDE] = True


def _transaction_again(record_info: dict, driver_connection) -> None:
    if record_info.pop(READS_OUTSIDE, False):
        driver_connection.autocommit = False


@event.listens_for(Engine, "before_cursor_execute")
def _before_statement(connection, _cursor, _statement, _parameters, context, _many):
    if context is not None:  # SQLAlchemy's own statement (a Read passes no context)
        _transaction_again(connection.connection.info, connection.connection.dbapi_connection)


@event.listens_for(Pool, "checkin")
def _back_to_pool(driver_connection, record):
    if driver_connection is not None:
        _transaction_again(record.info, driver_connection)
