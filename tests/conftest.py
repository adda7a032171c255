"""Shared fixtures: one app and schema per run (built by the real migrations), rows wiped per test.

The database is a temporary SQLite file unless TEST_DATABASE_URL names another (CI's PostgreSQL).
"""
import os
import re
import tempfile
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from widget_server import create_app
from widget_server.core.extensions import db, limiter
from widget_server.tenancy import admins
from widget_server.tenancy.models import Merchant

pytest_plugins = ["tests.browser", "tests.issue_support"]

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _database_url(tmp: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp / 'test.db'}"


@pytest.fixture(scope="session")
def app():
    tmp = Path(tempfile.mkdtemp(prefix="widget-tests-"))
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": _database_url(tmp),
        "PUBLIC_URL": "https://portal.example.test",
        # cheap argon2 parameters: the real ones (19 MiB, t=2) cost ~16 ms a hash
        "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1,
        # initialised with its (memory) storage, then switched off: counters would leak
        # between tests; the throttling tests switch it on and reset it
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "WTF_CSRF_ENABLED": True,
        "DEMO_ENABLED": True,
    })
    limiter.enabled = False
    with app.app_context():
        _reset_schema()
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def _reset_schema():
    """Start from an empty database even when a local PostgreSQL run left tables behind."""
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(autouse=True)
def _clean_tables(app):
    # the limiter is one object for every app: an app built by a test (create_app reads the
    # environment's RATELIMIT_ENABLED) must not leave it on for the tests after
    limiter.enabled = False
    yield
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                # invoices and orders name each other (invoice.order_id RESTRICT, #21)
                conn.execute(text("UPDATE invoice SET order_id = NULL"))
                for name in tables:
                    conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def ctx(app):
    """An application context for tests that call services directly."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Browserish:
    """Test-client helper that submits forms the way a browser does: GET the page, then POST
    with the page's CSRF token."""

    def __init__(self, client):
        self.client = client

    def submit(self, url, data, *, form_url=None, follow=False):
        page = self.client.get(form_url or url)
        assert page.status_code == 200, page.status_code
        payload = {"csrf_token": csrf_from(page.get_data(as_text=True)), **data}
        return self.client.post(url, data=payload, follow_redirects=follow)

    def login(self, email, password):
        return self.submit("/admin/login", {"email": email, "password": password})


@pytest.fixture
def browser_like(client):
    return Browserish(client)


@pytest.fixture
def make_merchant(app):
    """Factory: a merchant with an owner, committed. Returns (merchant, owner_email)."""

    def make(slug="acme", *, role="owner", password="owner-pass-123", **fields):
        with app.app_context():
            merchant = Merchant(slug=slug, name=fields.pop("name", slug.title()),
                                currency=fields.pop("currency", "USD"),
                                locale=fields.pop("locale", "en_US"),
                                timezone=fields.pop("timezone", "UTC"), config={}, **fields)
            db.session.add(merchant)
            email = f"{role}@{slug}.test"
            admins.create_admin(merchant, email, password, role)
            db.session.commit()
            return merchant.id, email

    return make


@pytest.fixture
def make_admin(app):
    def make(merchant_id, email, role="staff", password="staff-pass-123"):
        with app.app_context():
            merchant = db.session.get(Merchant, merchant_id)
            admins.create_admin(merchant, email, password, role)
            db.session.commit()
        return email

    return make


@pytest.fixture
def owner_client(client, browser_like, make_merchant):
    """A client signed in as the owner of merchant `acme`."""
    merchant_id, email = make_merchant("acme")
    response = browser_like.login(email, "owner-pass-123")
    assert response.status_code == 302
    browser_like.merchant_id = merchant_id
    return browser_like


@pytest.fixture
def portal(app, make_merchant):
    """Factory: a merchant with an enabled default profile and a customer who can sign in.

    Returns a namespace with merchant_id, profile_id, customer_id, slug and the credentials.
    """
    from types import SimpleNamespace

    from widget_server.core.passwords import hash_password
    from widget_server.customers.models import Customer, CustomerEmail
    from widget_server.profiles import services as profile_services

    def make(slug="acme", *, username="jane", password="customer-pass-1",
             emails=("jane@example.test", "ap@example.test"), config=None):
        merchant_id, _ = make_merchant(slug)
        with app.app_context():
            merchant = db.session.get(Merchant, merchant_id)
            if config:
                merchant.config = config
            profile = profile_services.create_profile(merchant, "Standard", "standard")
            customer = Customer(merchant_id=merchant_id, first_name="Jane", last_name="Doe",
                                username=username, password_hash=hash_password(password),
                                custom_fields={})
            customer.emails = [CustomerEmail(merchant_id=merchant_id, address=a, position=i)
                               for i, a in enumerate(emails)]
            db.session.add(customer)
            db.session.commit()
            return SimpleNamespace(merchant_id=merchant_id, profile_id=profile.id,
                                   customer_id=customer.id, slug=slug, username=username,
                                   password=password, emails=list(emails),
                                   base=f"/w/{slug}/standard", standalone=f"/p/{slug}")

    return make


def widget_login(client, base, login, password, **kwargs):
    """Sign in through the widget's login form, as a browser would."""
    page = client.get(f"{base}/login", **kwargs)
    assert page.status_code == 200, page.status_code
    return client.post(f"{base}/login", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "login": login,
        "password": password}, **kwargs)


class QueryCounter:
    """Counts SQL statements sent while active: `with count_queries(app) as counter: ...`."""

    def __init__(self, engine):
        self.engine, self.statements = engine, []

    def _record(self, conn, cursor, statement, *args):
        self.statements.append(statement)

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    def make():
        with app.app_context():
            engine = db.engine
        return QueryCounter(engine)

    return make


class SmtpSink:
    """A real SMTP server (aiosmtpd) on a free loopback port that keeps what it receives."""

    def __init__(self, port: int):
        from aiosmtpd.controller import Controller

        self.port, self.messages = port, []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                from email import message_from_bytes, policy

                sink.messages.append((envelope.rcpt_tos,
                                      message_from_bytes(envelope.content, policy=policy.default)))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()


@pytest.fixture
def smtp_port(app, monkeypatch):
    """A free port, wired into Flask-Mail with sending switched on (TESTING suppresses it)."""
    from tests.browser import free_port

    port = free_port()
    state = app.extensions["mail"]
    monkeypatch.setattr(state, "server", "127.0.0.1")
    monkeypatch.setattr(state, "port", port)
    monkeypatch.setattr(state, "suppress", False)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    return port


@pytest.fixture
def smtp(smtp_port):
    sink = SmtpSink(smtp_port).start()
    yield sink
    sink.stop()


@pytest.fixture
def billed(app, portal):
    """A customer signed in (p.client) with invoices of 50.00 and 100.00 (p.invoice_ids)."""
    from widget_server.billing.invoices import build_invoice
    from widget_server.catalogue.models import Product
    from widget_server.customers.models import Customer

    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        customer = db.session.get(Customer, p.customer_id)
        product = Product(merchant_id=merchant.id, sku="S", name="Service",
                          unit_price_minor=5000, currency="USD")
        db.session.add(product)
        db.session.flush()
        p.product_id = product.id
        p.invoice_ids = []
        for qty in (1, 2):
            invoice = build_invoice(merchant, customer, [(product, qty)],
                                    number=uuid.uuid4().hex[:8], issue_date=date.today(),
                                    due_date=date.today() + timedelta(days=qty))
            db.session.flush()
            p.invoice_ids.append(invoice.id)
        db.session.commit()
    p.client = app.test_client()
    widget_login(p.client, p.base, p.username, p.password)
    return p
