"""The app's database connections (#26): a request after the server closed them is answered as
usual, and what psycopg prepared on them survives requests that only read.

The pool no longer pings before every request (a round trip each on PostgreSQL): a checkout
looks at the connection's socket, where a closed connection's goodbye waits, and replaces the
connection then. This is what the ping was for, shown on the real server.
"""
import os
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.conftest import widget_login
from widget_server.core.extensions import db
from widget_server.core.read_connections import kept_connection

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="closes the app's PostgreSQL connections from the server's side")


def _terminate_the_apps_connections(app) -> int:
    killer = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    try:
        with killer.begin() as conn:
            ended = conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                "datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    finally:
        killer.dispose()
    time.sleep(0.2)  # the server's goodbye reaches the sockets
    return ended


def test_pages_are_answered_after_the_server_closed_every_connection(app, portal):
    p = portal()
    client = app.test_client()
    assert widget_login(client, p.base, p.username, p.password).status_code == 302
    assert client.get(f"{p.base}/account").status_code == 200
    with app.app_context():
        pool = db.engine.pool
        pool_connections = pool.checkedin()
    assert pool_connections >= 1  # the page's connection went back to the pool
    assert kept_connection() is not None  # and one stays with the thread for its Reads
    assert _terminate_the_apps_connections(app) >= pool_connections + 1
    for _ in range(3):  # every connection the pool (or the thread) kept is found dead, replaced
        assert client.get(f"{p.base}/account").status_code == 200
        assert client.get(f"{p.base}/invoices").status_code == 200


def test_pages_that_only_read_keep_what_psycopg_prepared(app, portal):
    """psycopg prepares a statement run five times on a connection and forgets them all at a
    ROLLBACK; a request that only read ends with a COMMIT (`unit_of_work.end_read`), so the
    overview's statements are planned once per connection, not on every request."""
    p = portal()
    client = app.test_client()
    assert widget_login(client, p.base, p.username, p.password).status_code == 302
    with app.app_context():
        db.engine.dispose()  # one connection from here on: the requests come one at a time
    for _ in range(8):
        assert client.get(f"{p.base}/account").status_code == 200
    # that very connection: the one the test's thread keeps for its Reads (core.reads)
    cursor = kept_connection().cursor()
    cursor.execute("SELECT statement FROM pg_prepared_statements")
    prepared = [statement for (statement,) in cursor.fetchall()]
    cursor.close()
    assert any("FROM merchant" in statement for statement in prepared), prepared
