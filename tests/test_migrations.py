"""The migrations alone build the schema the models describe, on SQLite and on PostgreSQL."""
import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text

from widget_server import create_app
from widget_server.core.extensions import db


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


def _money_survives_the_counters_revision(url: str) -> dict[str, int]:
    """Rows made before revision 9b22db012c24 come through it: SQLite's batch rebuild of
    invoice and payment must not cascade to their lines and allocations, and each merchant's
    invoice counter starts above its highest INV-<digits> number, drafts included."""
    from datetime import UTC, date, datetime

    from sqlalchemy import column as sa_column
    from sqlalchemy import func, insert, inspect, select
    from sqlalchemy import table as sa_table

    from widget_server.billing.models import Invoice, InvoiceLine, Payment, PaymentAllocation
    from widget_server.customers.models import Customer
    from widget_server.tenancy.counters import Counter
    from widget_server.tenancy.models import Merchant

    old_payment = sa_table("payment", *(sa_column(c.name, c.type) for c in Payment.__table__.c
                                        if c.name not in ("source", "refunded_minor",
                                                          "received_on")))
    # invoices before credit notes (revision b24b2c3d4e5f, #24)
    old_invoice = sa_table("invoice", *(sa_column(c.name, c.type) for c in Invoice.__table__.c
                                        if c.name != "credited_minor"))
    # invoice lines before tax (revision b3f1c7d2e8a4, #21)
    old_line = sa_table("invoice_line", *(sa_column(c.name, c.type)
                                          for c in InvoiceLine.__table__.c
                                          if c.name not in ("net_minor", "tax_rate_bp",
                                                            "tax_minor")))
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url,
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade(revision="87612e35ebf4")
        with db.engine.begin() as conn:
            shared = {"payments": {"stripe_account_id": "acct_1SharedBetweenTwo"}}
            for slug in ("a", "b", "c"):  # a and b typed the same Stripe account
                conn.execute(insert(Merchant.__table__).values(
                    slug=slug, name=slug, config=shared if slug != "c" else {}))
            ids = dict(conn.execute(select(Merchant.slug, Merchant.id)).all())
            customers = {slug: conn.execute(insert(Customer.__table__).values(
                merchant_id=mid, first_name="J", last_name="D", custom_fields={})
                .returning(Customer.id)).scalar() for slug, mid in ids.items()}
            invoices = [("a", "INV-00003", "issued"), ("a", "INV-0900", "draft"),
                        ("a", "IMPORT-7", "issued"), ("b", "INV-00002", "issued"),
                        ("c", "OLD/12", "issued")]
            for n, (slug, number, status) in enumerate(invoices):
                invoice_id = conn.execute(insert(old_invoice).values(
                    merchant_id=ids[slug], customer_id=customers[slug], number=number,
                    status=status, currency="USD", total_minor=100, balance_minor=0,
                    issue_date=date(2026, 1, 1), created_at=datetime.now(UTC))
                    .returning(old_invoice.c.id)).scalar()
                conn.execute(insert(old_line).values(
                    merchant_id=ids[slug], invoice_id=invoice_id, position=0,
                    description="x", quantity=1, unit_price_minor=100, amount_minor=100))
                payment_id = conn.execute(insert(old_payment).values(  # the columns of then
                    merchant_id=ids[slug], customer_id=customers[slug], amount_minor=100,
                    currency="USD", status="succeeded", reference=f"pi_{n}", method="card",
                    method_label="", failure_message="", method_token="", plan={},
                    created_at=datetime.now(UTC)).returning(old_payment.c.id)).scalar()
                conn.execute(insert(PaymentAllocation.__table__).values(
                    payment_id=payment_id, invoice_id=invoice_id, merchant_id=ids[slug],
                    amount_minor=100))
            # a bank debit still processing at the upgrade: its invoice must stay in progress
            open_id = conn.execute(insert(old_invoice).values(
                merchant_id=ids["c"], customer_id=customers["c"], number="OPEN-1",
                status="issued", currency="USD", total_minor=700, balance_minor=700,
                issue_date=date(2026, 1, 1), created_at=datetime.now(UTC))
                .returning(old_invoice.c.id)).scalar()
            pending_id = conn.execute(insert(old_payment).values(
                merchant_id=ids["c"], customer_id=customers["c"], amount_minor=700,
                currency="USD", status="pending", reference="py_1", method="ach",
                method_label="", failure_message="", method_token="tok",
                plan={"invoice_ids": [open_id]}, created_at=datetime.now(UTC))
                .returning(old_payment.c.id)).scalar()
        upgrade()
        with db.engine.connect() as conn:
            assert dict(conn.execute(select(Counter.merchant_id, Counter.next_value)
                                     .where(Counter.name == "invoice")).all()) == {
                ids["a"]: 901, ids["b"]: 3}
            for model in (InvoiceLine, PaymentAllocation):
                assert conn.execute(select(func.count()).select_from(model)).scalar() == 5
            # lines from before tax: rate 0, net = gross (#21)
            assert set(conn.execute(select(InvoiceLine.net_minor, InvoiceLine.tax_minor,
                                           InvoiceLine.amount_minor)).all()) == {(100, 0, 100)}
            assert conn.execute(select(Invoice.payment_claim_id).where(
                Invoice.id == open_id)).scalar() == pending_id
            # revision 6f2d9a4c1e83 (#20): succeeded payments numbered per merchant in order,
            # the counter after them; a payment still pending has no number yet
            numbers = conn.execute(select(Payment.merchant_id, Payment.number)
                                   .order_by(Payment.id)).all()
            assert numbers == [(ids["a"], 1), (ids["a"], 2), (ids["a"], 3), (ids["b"], 1),
                               (ids["c"], 1), (ids["c"], None)]
            assert dict(conn.execute(select(Counter.merchant_id, Counter.next_value)
                                     .where(Counter.name == "payment")).all()) == {
                ids["a"]: 4, ids["b"]: 2, ids["c"]: 2}
            accounts = dict(conn.execute(select(Merchant.slug, Merchant.stripe_account_id)).all())
            assert accounts == {"a": "acct_1SharedBetweenTwo", "b": None, "c": None}
            configs = dict(conn.execute(select(Merchant.slug, Merchant.config)).all())
            assert configs["b"]["payments"]["stripe_account_id"] == ""  # not half-connected
            fks = {t: [fk["options"].get("ondelete") for fk in inspect(conn).get_foreign_keys(t)
                       if fk["referred_table"] == "customer"]
                   for t in ("invoice", "payment", "payment_method", "sales_order")}
            assert fks == {"invoice": ["RESTRICT"], "payment": ["RESTRICT"],
                           "payment_method": ["RESTRICT"], "sales_order": ["RESTRICT"]}
            kept = {model.__tablename__: conn.execute(select(func.count()).select_from(model))
                    .scalar() for model in (InvoiceLine, PaymentAllocation)}
        db.engine.dispose()
    return kept


def test_money_survives_the_counters_revision_on_sqlite(tmp_path):
    kept = _money_survives_the_counters_revision(f"sqlite:///{tmp_path / 'old.db'}")
    assert kept == {"invoice_line": 5, "payment_allocation": 5}


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="runs in CI's PostgreSQL pass")
def test_money_survives_the_counters_revision_on_postgresql():
    base = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"{base.database}_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        kept = _money_survives_the_counters_revision(
            base.set(database=name).render_as_string(False))
        assert kept == {"invoice_line": 5, "payment_allocation": 5}
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
