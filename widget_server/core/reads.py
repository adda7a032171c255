"""Read-only statements run through the database driver: the statements of the widget's pages.

For the small statements a widget page runs, SQLAlchemy's work on each execution (the
statement's cache key, an execution context, the result's metadata and, through the ORM session,
its loading machinery) cost five to ten times the database's own: the signed-in pages'
identifying statement took 470 µs through the session and 40 µs through sqlite3 (issue #26,
measured on the bench's database). A `Read` is still written with SQLAlchemy, compiled by it once
per dialect, and run on the session's own connection inside its transaction once that has
sent a statement, before it on a pooled connection kept for the request's Reads (see
`_connection_for`); its rows are named tuples whose values the columns' types have
converted, as SQLAlchemy's would be (dates, UTC timestamps, JSON, booleans on SQLite).

A page that needs entities (the signed-in request's merchant, profile and customer, which a
form may then change) selects `entity_columns(Model)` and turns those values into an entity with
`attach(Model, values)`: persistent in the request's session, exactly as if a query had loaded
it.

On PostgreSQL the Reads that come before a request's other statements run outside a
transaction (see `_read_outside_transaction`); a Read never locks rows (no FOR UPDATE).

What a `Read` gives up: bind values are converted by the types of its bound parameters but not
expanded (no `in_()` of a list: use a statement of SQLAlchemy's there), and a driver error is
wrapped in SQLAlchemy's exception classes, as anywhere else, without SQLAlchemy's statement
logging. Statement listeners (`before_cursor_execute`: the query-count tests, the bench's
statement counts) hear every statement.
"""
import os
import threading
import time
import weakref
from collections import namedtuple
from functools import cache
from typing import Any

from flask import g, has_app_context, has_request_context
from sqlalchemy import Engine, event, exc, inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.pool import Pool
from sqlalchemy.sql import Select

from .database import RETURNED_AT, check_liveness
from .extensions import db


class _Plan:
    """A statement compiled for one dialect: its SQL, how to bind its parameters, and how to
    turn a driver row into a named tuple."""

    def __init__(self, statement: Select, dialect):
        compiled = statement.compile(dialect=dialect)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a Read cannot expand parameters (IN lists): use SQLAlchemy there")
        self.sql = compiled.string
        self.defaults = compiled.construct_params(_check=False)  # the statement's own literals
        self.binders = {name: processor for name, processor in compiled._bind_processors.items()
                        if processor is not None}
        self.positions = (tuple(compiled.positiontup) if compiled.positional else None)
        self.columns, self.dialect = compiled._result_columns, dialect
        self.row = namedtuple("Row", [column.keyname for column in self.columns], rename=True)
        self.converters: tuple | None = None  # known at the first execution (see `convert`)

    def convert(self, description) -> tuple:
        """Each column's converter, as SQLAlchemy picks it: by the column's type and the type
        the driver reports (psycopg's NUMERIC converter depends on it), once per plan."""
        if self.converters is None:
            self.converters = tuple(
                (index, converter) for index, column in enumerate(self.columns)
                if (converter := column.type._cached_result_processor(
                    self.dialect, description[index][1])) is not None)
        return self.converters

    def parameters(self, given: dict[str, Any]):
        values = {**self.defaults, **given}
        for name, processor in self.binders.items():
            values[name] = processor(values[name])
        if self.positions is None:
            return values
        return tuple(values[name] for name in self.positions)

    def rows(self, raw: list, description) -> list:
        make, converters = self.row._make, self.convert(description)
        if not converters:
            return [make(values) for values in raw]
        converted = []
        for values in raw:
            values = list(values)
            for index, converter in converters:
                values[index] = converter(values[index])
            converted.append(make(values))
        return converted


class Read:
    """A read-only SELECT, built once at import time with bound parameters (`bindparam("x")`)
    and run with `all(x=...)`, `first(x=...)` or `one(x=...)`."""

    def __init__(self, statement: Select):
        self.statement = statement
        self._plans: dict[str, _Plan] = {}

    def _plan(self, dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._plans[dialect.name] = _Plan(self.statement, dialect)
        return plan

    def all(self, **parameters) -> list:
        return self._run(parameters, first_only=False)

    def first(self, **parameters):
        found = self._run(parameters, first_only=True)
        return found[0] if found else None

    def one(self, **parameters):
        found = self._run(parameters, first_only=False)
        if len(found) != 1:
            raise (exc.MultipleResultsFound if found else exc.NoResultFound)("expected one row")
        return found[0]

    def _run(self, parameters: dict, first_only: bool) -> list:
        session = db.session()
        if session.autoflush:  # what the session holds unwritten, as its execute() would
            session.flush()
        connection, pooled = _connection_for(session)
        engine = pooled.engine if connection is None else connection
        dialect = engine.dialect
        plan = self._plan(dialect)
        bound = plan.parameters(parameters)
        driver_connection = pooled.dbapi_connection
        _read_outside_transaction(pooled.info, driver_connection)
        keeps_cursor = dialect.name in _CURSORS_KEPT
        cursor = _cursor(pooled.info, driver_connection) if keeps_cursor else (
            driver_connection.cursor())
        try:
            engine.dispatch.before_cursor_execute(connection, cursor, plan.sql, bound, None,
                                                  False)
            cursor.execute(plan.sql, bound)
            if first_only:
                raw = cursor.fetchone()
                raw = [] if raw is None else [raw]
            else:
                raw = cursor.fetchall()
            # (psycopg builds its description anew on each call: asked once per plan)
            description = cursor.description if plan.converters is None else None
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, driver_connection, cursor):
                if connection is not None:
                    connection.invalidate(error)
                else:
                    _lost(pooled, error)
            raise exc.DBAPIError.instance(plan.sql, bound, error, dialect.loaded_dbapi.Error,
                                          dialect=dialect) from error
        finally:
            if not keeps_cursor:
                cursor.close()
        return plan.rows(raw, description)


# psycopg reads a statement's whole result at execute (a client-side cursor), so a cursor kept
# on the connection for the next Read holds nothing on the server, and keeps the loaders it
# made for its columns: a new cursor made them anew, 15 us of a statement (#26). sqlite3 steps
# through rows as they are fetched (a row left unread keeps its read snapshot): closed after
# each Read.
_CURSORS_KEPT = frozenset({"postgresql"})
_CURSOR = "reads.cursor"  # the pool record's info: the cursor kept for Reads on that connection


def _cursor(info: dict, driver_connection):
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
    """The pool's connection of a request's Reads, with its engine, pool and process."""

    def __init__(self, engine: Engine):
        self.engine, self.pool, self.process = engine, engine.pool, os.getpid()
        self.fairy = engine.raw_connection()
        self.dbapi_connection = self.fairy.dbapi_connection
        self.info = self.fairy.info


def _connection_for(session):
    """(the session's Connection or None, what the Read runs on: its pool connection)."""
    if session.info.get(SESSION_CONNECTIONS) or not has_request_context():
        connection = session.connection()
        return connection, connection.connection
    pooled = g.get(READ_CONNECTION)
    if pooled is None:
        pooled = _take(db.engine)
        setattr(g, READ_CONNECTION, pooled)
    return None, pooled


def _lost(pooled: _Pooled, error) -> None:
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
    if kept is not None:
        if kept.process != os.getpid():  # a parent's, inherited by fork: its socket is the
            _FORGOTTEN.append(kept)       # parent's own, so neither used nor closed here
        elif kept.pool is not engine.pool:  # the engine's pool was replaced (dispose)
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
    status = getattr(getattr(driver_connection, "info", None), "transaction_status", None)
    if status is not None:
        return status.name == "IDLE"
    return not getattr(driver_connection, "in_transaction", True)


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


def _read_outside_transaction(record_info: dict, driver_connection) -> None:
    if record_info.get(READS_OUTSIDE) or getattr(driver_connection, "autocommit", True):
        return  # already on; or a driver without the switch, or autocommit set by someone else
    status = getattr(getattr(driver_connection, "info", None), "transaction_status", None)
    if status is not None and status.name == "IDLE":
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


@cache
def _shape(model) -> tuple[tuple, tuple[str, ...], tuple[int, ...], bool, object]:
    mapper = inspect(model)
    columns = tuple(mapper.local_table.columns)
    keys = tuple(mapper.get_property_by_column(column).key for column in columns)
    primary = tuple(columns.index(column) for column in mapper.primary_key)
    # every column attribute is among the table's columns: nothing is left to load later
    whole = {attribute.key for attribute in mapper.column_attrs} <= set(keys)
    return columns, keys, primary, whole, mapper


def entity_columns(model) -> tuple:
    """Every column of `model`'s table, in the order `attach` expects them."""
    return _shape(model)[0]


def attach(model, values):
    """The entity whose `entity_columns(model)` are `values` (a slice of a Read's row),
    persistent in the request's session as if a query had loaded it: changed and flushed like
    any other, its relationships loaded on first use. The session's own copy when it holds one
    (a query would not overwrite it either); None when the row had none (an outer join)."""
    _columns, keys, primary, whole, mapper = _shape(model)
    identity = tuple(values[index] for index in primary)
    if None in identity:
        return None
    key = mapper.identity_key_from_primary_key(identity)
    session = db.session()
    held = session.identity_map.get(key)
    if held is not None:
        return held
    instance = mapper.class_manager.new_instance()
    instance.__dict__.update(zip(keys, values, strict=True))
    if not whole:  # an attribute outside the table (a column_property): loaded when read
        make_transient_to_detached(instance)
        session.add(instance)
        return instance
    # As the ORM's loading makes a row's entity persistent: its identity key, then into the
    # session's identity map. `make_transient_to_detached` and `add` did the same, and also
    # expired the unloaded attributes (relationships load lazily either way) and walked the
    # relationships' cascade (nothing is loaded to cascade to): a third of a signed-in
    # request's identifying work, #26. tests/test_reads.py holds the entity to both.
    state = instance_state(instance)
    state.key = key
    session._update_impl(state)
    return instance
