"""Read-only statements run through the database driver: the statements of the widget's pages.

For the small statements a widget page runs, SQLAlchemy's work on each execution (the
statement's cache key, an execution context, the result's metadata and, through the ORM session,
its loading machinery) cost five to ten times the database's own: the signed-in pages'
identifying statement took 470 µs through the session and 40 µs through sqlite3 (issue #26,
measured on the bench's database). A `Read` is still written with SQLAlchemy, compiled by it once
per dialect, and run on the session's own connection inside its transaction once that has
sent a statement, before it on a pooled connection kept for the request's Reads (see
`core.read_connections`); its rows are named tuples whose values the columns' types have
converted, as SQLAlchemy's would be (dates, UTC timestamps, JSON, booleans on SQLite).

A page that needs entities (the signed-in request's merchant, profile and customer, which a
form may then change) selects `entity_columns(Model)` and turns those values into an entity with
`attach(Model, values)`: persistent in the request's session, exactly as if a query had loaded
it.

On PostgreSQL the Reads that come before a request's other statements run outside a
transaction (see `core.read_connections`); a Read never locks rows (no FOR UPDATE).

What a `Read` gives up: bind values are converted by the types of its bound parameters but not
expanded (no `in_()` of a list: use a statement of SQLAlchemy's there), and a driver error is
wrapped in SQLAlchemy's exception classes, as anywhere else, without SQLAlchemy's statement
logging. Statement listeners (`before_cursor_execute`: the query-count tests, the bench's
statement counts) hear every statement.
"""
from collections import namedtuple
from functools import cache
from typing import Any

from sqlalchemy import cast, exc, inspect, null
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.sql import Select

from .extensions import db
from .read_connections import (
    CURSORS_KEPT,
    connection_for,
    kept_cursor,
    lost,
    read_outside_transaction,
)


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


def null_of(type_):
    """A NULL of `type_`: a column one branch of a Read's UNION ALL lacks (the overview's recent
    invoices and payments, the orders list's orders and agents). The first branch's column
    types give the converters; a typed NULL keeps PostgreSQL's union typing exact."""
    return cast(null(), type_)


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
        connection, pooled = connection_for(session)
        engine = pooled.engine if connection is None else connection
        dialect = engine.dialect
        plan = self._plan(dialect)
        bound = plan.parameters(parameters)
        driver_connection = pooled.dbapi_connection
        read_outside_transaction(pooled.info, driver_connection)
        keeps_cursor = dialect.name in CURSORS_KEPT
        cursor = kept_cursor(pooled.info, driver_connection) if keeps_cursor else (
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
                    lost(pooled, error)
            raise exc.DBAPIError.instance(plan.sql, bound, error, dialect.loaded_dbapi.Error,
                                          dialect=dialect) from error
        finally:
            if not keeps_cursor:
                cursor.close()
        return plan.rows(raw, description)


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
