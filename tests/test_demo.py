"""`flask seed-demo`: the demo the README promises, and idempotent."""
from datetime import date

from sqlalchemy import func, select

from widget_server.billing.models import Invoice
from widget_server.catalogue.models import Product
from widget_server.commerce.models import Order, SalesAgent
from widget_server.core.extensions import db
from widget_server.core.passwords import verify
from widget_server.customers.models import Customer
from widget_server.profiles.models import SelfServiceProfile
from widget_server.tenancy.models import AdminUser


def _counts():
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (AdminUser, SelfServiceProfile, Customer, Product, SalesAgent, Invoice,
                          Order)}


def test_seed_demo_is_complete_and_idempotent(app, ctx):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "admin@demo.test / demo-admin-pass" in first.output
    assert "local use only" in first.output
    counts = _counts()
    # two subscriptions (#21), each with its first invoice
    assert counts == {"AdminUser": 2, "SelfServiceProfile": 1, "Customer": 2, "Product": 7,
                      "SalesAgent": 2, "Invoice": 14, "Order": 2}
    recurring = db.session.scalars(select(Product).where(Product.interval.is_not(None))).all()
    assert {p.interval for p in recurring} == {"month", "year"}
    active = db.session.scalars(select(Order).where(Order.status == "active")).all()
    assert len(active) == 2 and all(o.next_billing_date > date.today() for o in active)

    customer = db.session.scalar(select(Customer).where(Customer.username == "demo"))
    assert customer.username == "demo"
    assert customer.primary_emails == ["customer@demo.test", "accounts@demo.test"]
    assert verify(customer.password_hash, "demo-customer-pass")[0]
    profile = db.session.scalar(select(SelfServiceProfile))
    assert (profile.slug, profile.enabled, profile.is_default) == ("default", True, True)
    invoices = db.session.scalars(select(Invoice)).all()
    today = date.today()
    paid = [i for i in invoices if i.status == "paid"]
    overdue = [i for i in invoices if i.status == "issued" and i.due_date < today]
    upcoming = [i for i in invoices if i.status == "issued" and i.due_date >= today]
    assert len(paid) == 6 and len(overdue) >= 2 and len(upcoming) >= 2
    assert all(i.balance_minor == 0 for i in paid)
    assert any(0 < i.balance_minor < i.total_minor for i in overdue)  # partly paid
    assert all(i.total_minor == sum(line.amount_minor for line in i.lines) for i in invoices)
    staff = db.session.scalar(select(AdminUser).where(AdminUser.role == "staff"))
    assert staff.email == "staff@demo.test"

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    db.session.expire_all()
    assert _counts() == counts


def test_production_has_no_demo_route_or_command(tmp_path):
    """The demo is registered only where DEMO_ENABLED is on (`make run`), never by default."""
    from widget_server import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "RATELIMIT_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'prod.db'}"})
    assert not app.config["DEMO_ENABLED"]
    assert app.test_client().get("/demo/shop").status_code == 404
    assert "seed-demo" not in app.cli.list_commands(app.app_context())
