"""`core.reads` and `core.read_connections`: statements the widget's pages run through the
database driver (issue #26) read the same values SQLAlchemy would, on SQLite and PostgreSQL;
their entities behave as loaded ones; statement listeners hear them; what they cannot do is
refused."""
import gc
import threading
from datetime import UTC, date, datetime

import pytest
from flask import g
from sqlalchemy import bindparam, exc, func, inspect, select

from widget_server.billing.models import Invoice
from widget_server.core.extensions import db
from widget_server.core.read_connections import (
    READ_CONNECTION,
    SESSION_CONNECTIONS,
    kept_connection,
)
from widget_server.core.reads import Read, attach, entity_columns
from widget_server.customers.models import Customer
from widget_server.profiles.models import SelfServiceProfile


def _statement():
    """Every kind of value a page reads: dates, UTC timestamps, JSON, booleans, strings,
    NULLs, an aggregate, and a literal of the statement's own beside the bound ones."""
    return (select(Invoice.id, Invoice.number, Invoice.issue_date, Invoice.due_date,
                   Invoice.created_at, Invoice.period_start, Invoice.status,
                   SelfServiceProfile.settings, SelfServiceProfile.enabled,
                   func.coalesce(Invoice.balance_minor, 0))
            .join(SelfServiceProfile, SelfServiceProfile.merchant_id == Invoice.merchant_id)
            .where(Invoice.merchant_id == bindparam("merchant"), Invoice.status != "draft",
                   Invoice.customer_id == bindparam("customer"))
            .order_by(Invoice.id))


def test_rows_read_through_the_driver_equal_sqlalchemys(app, billed):
    statement = _statement()
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, billed.profile_id)
        profile.settings = {"invoice": {"show_invoices": True}, "cart": {}}
        db.session.commit()
        params = {"merchant": billed.merchant_id, "customer": billed.customer_id}
        expected = [tuple(row) for row in db.session.execute(statement, params)]
        rows = Read(statement).all(**params)
    assert len(rows) == 2 and [tuple(row) for row in rows] == expected
    first = rows[0]
    assert isinstance(first.issue_date, date) and first.issue_date == date.today()
    assert first.created_at.tzinfo is not None
    assert abs(first.created_at - datetime.now(UTC)).total_seconds() < 600
    assert first.period_start is None and first.enabled is True
    assert first.settings == {"invoice": {"show_invoices": True}, "cart": {}}
    assert first.number == expected[0][1]  # named as the columns are


def test_first_and_one(app, billed):
    read = Read(_statement())
    with app.app_context():
        mine = {"merchant": billed.merchant_id, "customer": billed.customer_id}
        nobody = {"merchant": billed.merchant_id, "customer": -1}
        assert read.first(**mine).id == min(billed.invoice_ids)
        assert read.first(**nobody) is None
        with pytest.raises(exc.MultipleResultsFound):
            read.one(**mine)
        with pytest.raises(exc.NoResultFound):
            read.one(**nobody)


def test_an_attached_entity_is_one_the_session_loaded(app, billed):
    read = Read(select(*entity_columns(Customer)).where(Customer.id == bindparam("id")))
    with app.app_context():
        customer = attach(Customer, read.one(id=billed.customer_id))
        assert customer in db.session and not db.session.dirty
        assert customer.first_name == "Jane" and customer.merchant_id == billed.merchant_id
        assert "jane@example.test" in {e.address for e in customer.emails}  # lazy load works
        # the session's own copy is the one handed out, as a query would
        assert db.session.get(Customer, billed.customer_id) is customer
        assert attach(Customer, read.one(id=billed.customer_id)) is customer
        assert inspect(customer).persistent and not inspect(customer).expired_attributes
        customer.first_name = "Janet"
        assert customer in db.session.dirty
        db.session.commit()
        assert customer.first_name == "Janet"  # expired by the commit, loaded again
        customer.emails[0].address = "janet@example.test"  # its relationship's cascade too
        db.session.commit()
    with app.app_context():
        assert db.session.get(Customer, billed.customer_id).first_name == "Janet"
        assert "janet@example.test" in {e.address for e in db.session.get(
            Customer, billed.customer_id).emails}
        assert attach(Customer, (None,) * len(entity_columns(Customer))) is None


def test_statement_listeners_hear_a_read(app, billed, count_queries):
    read = Read(_statement())
    with app.app_context(), count_queries() as counter:
        read.all(merchant=billed.merchant_id, customer=billed.customer_id)
        assert counter.count == 1 and "FROM invoice" in counter.statements[0]


def test_a_driver_error_is_sqlalchemys(app):
    with app.app_context(), pytest.raises(exc.DBAPIError):
        Read(select(func.no_such_function(1))).all()


def test_a_list_parameter_is_refused(app):
    read = Read(select(Invoice.id).where(Invoice.id.in_(bindparam("ids", expanding=True))))
    with app.app_context(), pytest.raises(ValueError, match="IN lists"):
        read.all(ids=[1, 2])


def test_reads_before_a_write_leave_the_write_its_transaction(app, billed):
    """On PostgreSQL the Reads that open a request run outside a transaction (no BEGIN, no
    COMMIT); the request's first write still begins one, so a write rolled back is gone, and
    the connection goes back to the pool as it came."""
    from sqlalchemy import update

    read = Read(select(Customer.first_name).where(Customer.id == bindparam("id")))
    with app.app_context():
        assert read.one(id=billed.customer_id).first_name == "Jane"
        driver = db.session.connection().connection.dbapi_connection
        postgres = db.engine.dialect.name == "postgresql"
        assert getattr(driver, "autocommit", False) is postgres  # (sqlite3: no switch of ours)
        db.session.execute(update(Customer).where(Customer.id == billed.customer_id)
                           .values(first_name="Rolled back"))
        assert not getattr(driver, "autocommit", False)
        assert read.one(id=billed.customer_id).first_name == "Rolled back"  # its own write
        db.session.rollback()
        assert read.one(id=billed.customer_id).first_name == "Jane"
    with app.app_context():
        driver = db.session.connection().connection.dbapi_connection
        assert not getattr(driver, "autocommit", False)  # back in the pool as it came
        assert read.one(id=billed.customer_id).first_name == "Jane"


def test_numbers_read_as_sqlalchemy_reads_them(app, billed):
    """NUMERIC results (an average, a cast) come back as SQLAlchemy's would, on PostgreSQL
    too, where the converter depends on the type the driver reports."""
    from sqlalchemy import Numeric, cast

    statement = (select(func.avg(Invoice.total_minor), cast(Invoice.total_minor, Numeric(12, 2)))
                 .where(Invoice.customer_id == bindparam("customer"))
                 .group_by(Invoice.total_minor).order_by(Invoice.total_minor))
    with app.app_context():
        expected = [tuple(row) for row in db.session.execute(statement,
                                                             {"customer": billed.customer_id})]
        rows = Read(statement).all(customer=billed.customer_id)
    assert len(rows) == 2 and [tuple(row) for row in rows] == expected


def test_a_read_inside_no_autoflush_leaves_the_pending_object_alone(app, billed):
    """A Read flushes what the session holds, as SQLAlchemy's own execute would, but not
    inside `no_autoflush`, where an object may still be half built."""
    read = Read(select(func.count(Customer.id)).where(Customer.merchant_id == bindparam("m")))
    with app.app_context():
        db.session.add(Customer(merchant_id=billed.merchant_id, first_name="Half"))
        with db.session.no_autoflush:
            assert read.one(m=billed.merchant_id)[0] == 1  # last_name still missing: unflushed
        db.session.rollback()


def test_a_requests_reads_before_its_first_statement_use_a_connection_kept_by_the_thread(
        app, billed):
    """In a request, the Reads before the session sends anything run on a connection of the
    pool's kept for them (#26): they read what is committed; once the session's transaction
    runs, a Read runs inside it and sees its writes; when the request (or the transaction)
    ends, the connection stays with the thread, holding nothing open, for its next Reads."""
    read = Read(select(Customer.first_name).where(Customer.id == bindparam("id")))
    with app.app_context():
        db.engine.dispose()  # (no connection kept from an earlier test)
    with app.test_request_context("/"):
        customer = attach(Customer, Read(select(*entity_columns(Customer)).where(
            Customer.id == bindparam("id"))).one(id=billed.customer_id))
        assert read.one(id=billed.customer_id).first_name == "Jane"
        assert not db.session.info.get(SESSION_CONNECTIONS)  # the session has sent nothing
        driver = g.get(READ_CONNECTION).dbapi_connection
        assert db.engine.pool.checkedout() == 1
        customer.first_name = "Janet"
        db.session.flush()  # the session's transaction begins, on a connection of its own
        assert read.one(id=billed.customer_id).first_name == "Janet"
        assert db.engine.pool.checkedout() == 2
        db.session.rollback()  # (the Reads' connection goes back with the transaction)
        assert g.get(READ_CONNECTION) is None and kept_connection() is driver
        assert db.engine.pool.checkedout() == 1  # the session's went back to the pool
        assert read.one(id=billed.customer_id).first_name == "Jane"  # on the kept one again
        assert g.get(READ_CONNECTION).dbapi_connection is driver and kept_connection() is None
        assert getattr(driver, "autocommit", False) is (db.engine.dialect.name == "postgresql")
    with app.app_context():
        assert kept_connection() is driver and db.engine.pool.checkedout() == 1
    with app.test_request_context("/"):
        assert read.one(id=billed.customer_id).first_name == "Jane"
        assert g.get(READ_CONNECTION).dbapi_connection is driver  # the next request's Reads
        db.session.get(Customer, billed.customer_id).first_name = "June"
        db.session.commit()
        # nothing open is held through what follows a commit (a gateway's call, a hashing)
        assert g.get(READ_CONNECTION) is None and db.engine.pool.checkedout() == 1
        assert read.one(id=billed.customer_id).first_name == "June"
    with app.app_context():
        assert kept_connection() is driver and db.engine.pool.checkedout() == 1


def test_a_connection_holding_a_transaction_is_not_kept(app, billed):
    """Kept only while it holds nothing open: one left in a transaction goes back to the pool,
    which ends it."""
    read = Read(select(Customer.first_name).where(Customer.id == bindparam("id")))
    with app.app_context():
        db.engine.dispose()
    with app.test_request_context("/"):
        assert read.one(id=billed.customer_id).first_name == "Jane"
        driver = g.get(READ_CONNECTION).dbapi_connection
        cursor = driver.cursor()
        if db.engine.dialect.name == "postgresql":
            driver.autocommit = False
            cursor.execute("SELECT 1")  # psycopg begins a transaction
        else:
            cursor.execute("BEGIN")
        cursor.close()
    with app.app_context():
        assert kept_connection() is None and db.engine.pool.checkedout() == 0
    with app.test_request_context("/"):
        assert read.one(id=billed.customer_id).first_name == "Jane"


def test_a_kept_connection_goes_back_to_the_pool_when_its_thread_ends(app, billed):
    read = Read(select(Customer.first_name).where(Customer.id == bindparam("id")))
    with app.app_context():
        db.engine.dispose()
    seen = []

    def request_in_a_thread():
        with app.test_request_context("/"):
            seen.append(read.one(id=billed.customer_id).first_name)
        with app.app_context():
            seen.append(kept_connection() is not None and db.engine.pool.checkedout() == 1)

    worker = threading.Thread(target=request_in_a_thread)
    worker.start()
    worker.join()
    del worker
    gc.collect()
    assert seen == ["Jane", True]
    with app.app_context():
        assert db.engine.pool.checkedout() == 0 and db.engine.pool.checkedin() == 1


def test_a_kept_connection_of_a_replaced_pool_is_not_used(app, billed):
    read = Read(select(Customer.first_name).where(Customer.id == bindparam("id")))
    with app.test_request_context("/"):
        read.one(id=billed.customer_id)
        old = g.get(READ_CONNECTION).dbapi_connection
    with app.app_context():
        db.engine.dispose()  # a new pool (after a fork, in tests)
    with app.test_request_context("/"):
        assert read.one(id=billed.customer_id).first_name == "Jane"
        assert g.get(READ_CONNECTION).dbapi_connection is not old
        assert db.engine.pool.checkedout() == 1


def test_reads_after_a_driver_error_on_the_kept_connection_read_on(app, billed):
    """A request's Reads share their connection (and on PostgreSQL a cursor kept on it, #26):
    a statement the database refuses leaves them able to read on, in that request and the
    next."""
    read = Read(select(Customer.first_name).where(Customer.id == bindparam("id")))
    failing = Read(select(func.no_such_function(bindparam("id"))))
    for _ in range(2):
        with app.test_request_context("/"):
            assert read.one(id=billed.customer_id).first_name == "Jane"
            with pytest.raises(exc.DBAPIError):
                failing.all(id=1)
            assert read.one(id=billed.customer_id).first_name == "Jane"
            assert read.all(id=-1) == []


def test_a_forked_child_neither_uses_nor_closes_its_parents_kept_connection(app, billed):
    """After a fork the parent's kept connection is set aside in the child (closing it there
    would end the parent's database session); the child's Reads check out their own."""
    import os

    read = Read(select(Customer.first_name).where(Customer.id == bindparam("id")))
    with app.test_request_context("/"):
        read.one(id=billed.customer_id)
    parents = kept_connection()
    assert parents is not None
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # the child: report, then leave without running any cleanup
        try:
            with app.app_context():  # as SQLAlchemy advises after a fork: a pool of its own
                db.engine.dispose(close=False)
            with app.test_request_context("/"):
                ok = (kept_connection() is None
                      and read.one(id=billed.customer_id).first_name == "Jane"
                      and g.get(READ_CONNECTION).dbapi_connection is not parents)
            os.write(writer, b"ok" if ok else b"no")
        finally:
            os._exit(0)
    os.close(writer)
    answer = os.read(reader, 2)
    os.close(reader)
    os.waitpid(child, 0)
    assert answer == b"ok"
    with app.test_request_context("/"):  # the parent's connection still works
        assert read.one(id=billed.customer_id).first_name == "Jane"
        assert g.get(READ_CONNECTION).dbapi_connection is parents


def test_two_apps_served_in_turn_by_one_thread_keep_a_connection_each(app, billed):
    """The bench (and a test) may serve two apps from one thread in turn: each app's Reads keep
    their own connection rather than closing the other's on every turn."""
    from widget_server import create_app

    other = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                        "SECRET_KEY": "other", "TESTING": True})
    read = Read(select(Customer.first_name).where(Customer.id == bindparam("id")))
    seen = {}
    try:
        for _ in range(3):
            for name, served in (("app", app), ("other", other)):
                with served.test_request_context("/"):
                    assert read.one(id=billed.customer_id).first_name == "Jane"
                    seen.setdefault(name, set()).add(id(g.get(READ_CONNECTION).dbapi_connection))
        assert len(seen["app"]) == 1 and len(seen["other"]) == 1
        assert seen["app"] != seen["other"]
    finally:
        with other.app_context():
            db.engine.dispose()


def test_a_kept_connection_of_a_disposed_pool_is_closed_when_given_up(app, billed):
    """A thread keeps connections for two engines: the least recent goes back when a third
    comes, and one whose pool was replaced meanwhile (dispose) is closed then, not left open
    for the garbage collector."""
    from widget_server import create_app

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    others = [create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": f"other{n}",
                          "TESTING": True}) for n in range(2)]
    read = Read(select(Customer.first_name).where(Customer.id == bindparam("id")))
    with others[0].test_request_context("/"):
        read.one(id=billed.customer_id)
        given_up = g.get(READ_CONNECTION).dbapi_connection
    with others[0].app_context():
        db.engine.dispose()  # its kept connection is not in the pool: not closed by this
    try:
        for served in (app, others[1]):  # two more engines: the first one's is given up
            with served.test_request_context("/"):
                assert read.one(id=billed.customer_id).first_name == "Jane"
        if url.startswith("postgresql"):
            assert given_up.closed
        else:
            with pytest.raises(Exception, match="closed"):
                given_up.execute("SELECT 1")
    finally:
        with others[1].app_context():
            db.engine.dispose()
