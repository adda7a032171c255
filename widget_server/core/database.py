"""Database plumbing shared by every domain package: SQLite pragmas and portable column types."""
import select
import sqlite3
import time
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, Engine, event, exc
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.pool import Pool
from sqlalchemy.types import TypeDecorator

# JSONB on PostgreSQL (indexable, compact), plain JSON text on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """WAL and a busy timeout: the web server and the worker write to one SQLite file at once."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


# --- a connection's liveness, checked without a round trip --------------------------------------
# `pool_pre_ping` sent a query before every request's first statement: on PostgreSQL a round trip
# and a statement of the server's for each page (issue #26). A PostgreSQL connection the server
# has closed (a restart, pg_terminate_backend, an idle timeout) has its goodbye waiting on the
# socket; an idle connection has nothing to read. So a checkout looks at the socket (one
# syscall) and pings only when something is there, or when the connection has been idle long
# enough for a firewall to have dropped it silently; a dead one is replaced at once.
IDLE_PING_SECONDS = 30.0
RETURNED_AT = "returned_at"


@event.listens_for(Pool, "checkin")
def _note_return(dbapi_connection, record):
    record.info[RETURNED_AT] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _check_liveness(dbapi_connection, record, _proxy):
    check_liveness(dbapi_connection, record.info)


def check_liveness(dbapi_connection, info: dict) -> None:
    """Raises DisconnectionError for a connection the server has closed (`info`: its pool
    record's, where its return time is kept)."""
    if isinstance(dbapi_connection, sqlite3.Connection) or not hasattr(dbapi_connection,
                                                                        "fileno"):
        return  # a file, not a network peer
    if getattr(dbapi_connection, "closed", False):
        raise exc.DisconnectionError("the connection is closed")
    returned = info.get(RETURNED_AT)
    if returned is None:
        return  # new: it has just connected
    idle = time.monotonic() - returned
    if idle < IDLE_PING_SECONDS and not _has_something_to_read(dbapi_connection):
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()
    except Exception as error:  # any failure: the pool connects anew and tries again
        raise exc.DisconnectionError(str(error)) from error


def _has_something_to_read(dbapi_connection) -> bool:
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True  # no usable socket: let the ping decide
    return bool(readable)


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python, whatever the database keeps.

    SQLite has no time zones; PostgreSQL's `timestamptz` does. Storing naive UTC on both and
    attaching UTC on read means the same code compares leases and due times on either.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use datetime.now(UTC)")
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)
