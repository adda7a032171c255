"""One unit of work per request, per job and per command: services change and flush; the
boundary commits once at its end, so a change, its domain events and its emails are kept or
lost together.

- A request that wrote commits after its view has answered (`after_request`); one that only
  read ends its transaction on the connection (`end_read`: the ORM's commit would expire
  every loaded object for nothing, a tenth of a page's time, #26). An exception (a 500)
  rolls everything back when the app context ends. A refusal (`DomainError`) is rolled back
  by the face that shows it (`form_fields.show_errors`), so a half-made change never commits
  with the page that says it was refused.
- A job commits in the queue (`jobs.queue.run_one`), fenced by its lease; a CLI command
  commits at its end.
- The one documented exception: a payment commits before the gateway is called
  (`billing.payments.pay`, `charge`, `payment_jobs.run_scheduled`), so that whatever happens
  during the call (a crash, a lost answer), the attempt and its resolution job are on record.
- Sign-in ends its transaction while it has only read, before hashing the password
  (`end_read_only_transaction`), so no transaction stays open across argon2's tens of
  milliseconds; its writes start a new one, committed at the end as usual.
"""
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db
from .read_connections import SESSION_CONNECTIONS, release_read_connection

WROTE = "unit_of_work.wrote"  # session.info: this transaction has sent a write
CONNECTIONS = SESSION_CONNECTIONS  # session.info: the connections it runs on (Reads ask it)


@event.listens_for(Session, "after_flush")
def _flushed(session, _context):
    session.info[WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state):
    if not state.is_select:  # an UPDATE/DELETE/INSERT, or text() we cannot tell: a write
        state.session.info[WROTE] = True


@event.listens_for(Session, "after_begin")
def _began(session, _transaction, connection):
    session.info.setdefault(CONNECTIONS, []).append(connection)


@event.listens_for(Session, "after_transaction_end")
def _ended(session, transaction):
    if transaction.parent is None:
        session.info.pop(WROTE, None)
        session.info.pop(CONNECTIONS, None)
        # the Reads' connection too: nothing keeps a connection through what may follow a
        # commit or a rollback (a payment gateway's call, a password's hashing); a Read after
        # it takes one again
        release_read_connection()


def end_read(session) -> None:
    """End a transaction that only read with a COMMIT of its connections: to the database the
    same as a rollback, but psycopg forgets every statement it has prepared at a ROLLBACK
    (DEALLOCATE ALL), so on PostgreSQL each request planned its statements anew, a third of a
    millisecond each (#26). The session's own end then finds nothing left to roll back."""
    for connection in session.info.get(CONNECTIONS, ()):
        if not (connection.closed or connection.invalidated):  # (a lost one: nothing to end)
            connection.connection.dbapi_connection.commit()


def has_written(session) -> bool:
    """Whether the session's transaction holds a change: pending, flushed or executed."""
    return bool(session.new or session.dirty or session.deleted or session.info.get(WROTE))


def end_read_only_transaction() -> bool:
    """End the session's transaction if it has only read; True when none is open afterwards.

    For slow work that needs no database, such as hashing a password: on PostgreSQL an open
    transaction holds its connection ("idle in transaction") and its snapshot meanwhile. Rolling
    back a transaction that only read loses nothing; it expires the loaded objects, so they are
    read again (by primary key) when next used, in a new transaction. A transaction that has
    written (pending, flushed or executed changes) is left open: ending it would split the
    request's unit of work, so the slow work then runs inside it, as before.
    """
    session = db.session()
    if not session.in_transaction():
        return True
    if has_written(session):
        return False
    session.rollback()
    return True


def register(app: Flask) -> None:
    app.teardown_request(release_read_connection)

    @app.after_request
    def commit_request(response):
        if response.status_code >= 500:
            db.session.rollback()
        else:
            session = db.session()
            if session.in_transaction():
                if has_written(session):
                    session.commit()
                else:
                    end_read(session)
        return response
