"""`flask seed-demo`: the demo the README promises, and idempotent."""
from datetime import date

from sqlalchemy import func, select

from widget_server.billing.models import CreditNote, Invoice, Refund
from widget_server.catalogue.models import Product
from widget_server.commerce.models import Order, SalesAgent
from widget_server.commerce.proposal_models import Proposal
from widget_server.core.extensions import db
from widget_server.core.passwords import verify
from widget_server.customers.duplicates import likely_duplicates
from widget_server.customers.models import Customer
from widget_server.profiles.models import SelfServiceProfile
from widget_server.tenancy.models import AdminUser, Merchant


def _counts():
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (AdminUser, SelfServiceProfile, Customer, Product, SalesAgent, Invoice,
                          Order, Proposal, Refund, CreditNote)}


def test_seed_demo_is_complete_and_idempotent(app, ctx):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "admin@demo.test / demo-admin-pass" in first.output
    assert "local use only" in first.output
    counts = _counts()
    # two subscriptions (#21), each with its first invoice
    # and a likely duplicate of the demo customer with one invoice (#23 item 5), a proposal
    assert counts == {"AdminUser": 2, "SelfServiceProfile": 1, "Customer": 3, "Product": 7,
                      "SalesAgent": 2, "Invoice": 15, "Order": 2, "Proposal": 1,
                      "Refund": 1, "CreditNote": 1}
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
    merchant = db.session.get(Merchant, customer.merchant_id)
    hints = likely_duplicates(merchant, [customer.id])[customer.id]  # the seeded twin
    assert [h.reason for h in hints] == ["same name and phone"]
    # the admin finds Łukasiewicz by typing "lukas" (#24 item 2): the customer and the twin
    from widget_server.customers.services import search_customers
    found = search_customers(merchant, "lukas", 1, 25).items
    assert customer in found and len(found) == 2
    # a sent proposal for the demo customer, and Show Proposals on (#23)
    proposal = db.session.scalar(select(Proposal))
    assert (proposal.status, proposal.customer_id) == ("sent", customer.id)
    assert proposal.valid_until > today and proposal.number == "PRO-00001"
    assert profile.settings["global"]["show_proposals"] is True
    staff = db.session.scalar(select(AdminUser).where(AdminUser.role == "staff"))
    assert staff.email == "staff@demo.test"
    # money going back (#24): a partial refund and a credit note in the customer's history
    refund, note = db.session.scalar(select(Refund)), db.session.scalar(select(CreditNote))
    assert (refund.number, refund.status, refund.payment.refunded_minor) == (
        "REF-00001", "succeeded", refund.amount_minor)
    assert refund.payment.reference.startswith("sbx_")  # refundable through the sandbox
    assert (note.number, note.customer_id, note.credit_minor) == ("CN-00001", customer.id, 0)
    assert 0 < note.invoice.balance_minor < note.invoice.total_minor

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
    assert app.test_client().get("/demo/shop/products").status_code == 404
    assert "seed-demo" not in app.cli.list_commands(app.app_context())


def test_seed_offers_the_cart_on_the_demo_profile_and_is_idempotent(app, ctx):
    """The Shop page's cart (#22 slice d): a few one-off products offered in the cart and Enable
    Shopping Cart in iFrame on; a demo seeded before the cart gets both from the seed too."""
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "/demo/shop/products" in first.output
    offered = set(db.session.scalars(select(Product.sku).where(Product.in_cart.is_(True))))
    assert offered == {"HIKE-BOOT", "RAIN-JKT", "TENT-2P", "STOVE"}
    profile = db.session.scalar(select(SelfServiceProfile))
    assert profile.cart.enable_shopping_cart is True and profile.cart.enable_guest_checkout
    counts, settings = _counts(), profile.settings

    # an existing demo database, seeded before the cart: the seed turns both on
    for product in db.session.scalars(select(Product)):
        product.in_cart = False
    profile.settings = {k: v for k, v in profile.settings.items() if k != "cart"}
    db.session.commit()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    db.session.expire_all()
    assert set(db.session.scalars(select(Product.sku).where(Product.in_cart.is_(True)))) \
        == offered
    profile = db.session.scalar(select(SelfServiceProfile))
    assert profile.cart.enable_shopping_cart is True and profile.settings == settings
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    db.session.expire_all()
    assert _counts() == counts
    assert db.session.scalar(select(SelfServiceProfile)).settings == settings


def test_demo_shop_page_embeds_the_cart_beside_the_account_widget(app, client):
    public = app.config["PUBLIC_URL"]
    page = client.get("/demo/shop/products").get_data(as_text=True)
    assert (f'src="{public}/embed/loader.js" data-widget="cart" data-merchant="demo" '
            'data-profile="default" data-target="#shop-cart"') in page
    assert (f'src="{public}/embed/loader.js" data-merchant="demo" data-profile="default" '
            'data-target="#my-account"') in page
    assert 'id="shop-cart"' in page and 'id="my-account"' in page
    # the shop's nav links the two pages
    assert 'href="/demo/shop/products" aria-current="page">Shop</a>' in page
    account = client.get("/demo/shop").get_data(as_text=True)
    assert 'href="/demo/shop/products">Shop</a>' in account


def test_seed_has_an_answered_open_issue_with_show_issues_on(app, ctx):
    """#23: the demo customer's open service issue with the owner's answer, Show Issues on;
    a second run adds nothing."""
    from widget_server.support.models import ServiceIssue, ServiceIssueMessage

    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    issue = db.session.scalar(select(ServiceIssue))
    assert (issue.number, issue.status, issue.last_author) == ("ISS-00001", "open", "admin")
    assert [m.author for m in issue.messages] == ["customer", "admin"]
    assert issue.messages[0].attachments[0].content_type == "text/plain; charset=utf-8"
    profile = db.session.scalar(select(SelfServiceProfile))
    assert profile.global_.show_issues is True
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ServiceIssueMessage)) == 2


def test_demo_shop_sso_page_issues_a_fresh_token_for_the_demo_customer(app, client):
    """#25 item 6: the "signed in on the shop" page hands the loader a single sign-on token
    for the demo customer; each load a new one (the older cancelled), never cached."""
    import re

    from widget_server.customers.models import SignInToken
    from widget_server.customers.portal_sessions import _hash
    from widget_server.demo.seed import seed_demo

    assert client.get("/demo/shop/sso").status_code == 404  # nothing seeded yet
    with app.app_context():
        seed_demo()
        db.session.commit()
    tokens = []
    for _ in range(2):
        answer = client.get("/demo/shop/sso")
        assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
        tokens.append(re.search(r'data-session="(pst_[\w-]+)"',
                                answer.get_data(as_text=True)).group(1))
    with app.app_context():
        rows = db.session.scalars(select(SignInToken).order_by(SignInToken.id)).all()
        assert [r.token_hash for r in rows] == [_hash(t) for t in tokens]
        assert rows[0].cancelled_at is not None and rows[1].cancelled_at is None
    assert 'href="/demo/shop/sso">Angemeldet im Shop</a>' in client.get("/demo/shop").get_data(
        as_text=True)
