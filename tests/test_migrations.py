"""The migrations alone build the schema the models describe, on SQLite and on PostgreSQL."""
import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text

from widget_server import create_app
from widget_server.extensions import db


def _diff_after_upgrade(url: str) -> list:
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url,
                      "RATELIMIT_ENABLED": False})  # the limiter is one object for all apps
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        db.engine.dispose()
    return diff


def test_migrations_build_the_models_on_empty_sqlite(tmp_path):
    assert _diff_after_upgrade(f"sqlite:///{tmp_path / 'fresh.db'}") == []


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="runs in CI's PostgreSQL pass")
def test_migrations_build_the_models_on_empty_postgresql():
    base = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"{base.database}_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        assert _diff_after_upgrade(base.set(database=name).render_as_string(False)) == []
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
