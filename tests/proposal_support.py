"""Proposals for the tests (issue #23 item 1): `add_proposal` writes and sends one for a portal's
customer (a monthly plan and a one-time setup fee, 19 % tax included) and turns Show Proposals
on in its profile."""
from datetime import timedelta

from sqlalchemy import select

from widget_server.catalogue.models import Product
from widget_server.commerce import orders, proposals
from widget_server.core.extensions import db
from widget_server.customers.models import Customer
from widget_server.profiles.models import SelfServiceProfile
from widget_server.tenancy.models import Merchant


def show_proposals(app, p, on: bool = True) -> None:
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, p.profile_id)
        settings = dict(profile.settings or {})
        settings["global"] = {**settings.get("global", {}), "show_proposals": on}
        profile.settings = settings
        db.session.commit()


def _products(merchant) -> tuple[Product, Product]:
    have = {p.sku: p for p in db.session.scalars(select(Product).where(
        Product.merchant_id == merchant.id, Product.sku.in_(("PRO-PLAN", "PRO-SETUP"))))}
    if not have:
        have["PRO-PLAN"] = Product(merchant_id=merchant.id, sku="PRO-PLAN",
                                   name="Managed plan", unit_price_minor=1190,
                                   currency=merchant.currency, tax_rate_bp=1900,
                                   interval="month")
        have["PRO-SETUP"] = Product(merchant_id=merchant.id, sku="PRO-SETUP",
                                    name="Setup service", unit_price_minor=5950,
                                    currency=merchant.currency, tax_rate_bp=1900)
        db.session.add_all(have.values())
        db.session.flush()
    return have["PRO-PLAN"], have["PRO-SETUP"]


def add_proposal(app, p, *, days: int = 14, send: bool = True, note: str = "As discussed.",
                 switch_on: bool = True) -> int:
    """A proposal for p's customer (2 × the plan and the setup fee), valid `days` from today;
    sets p.proposal_id (the newest) and p.plan_id / p.setup_id. Returns its id."""
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        merchant.config = {**(merchant.config or {}),
                           "business": {**(merchant.config or {}).get("business", {}),
                                        "prices_include_tax": True}}
        customer = db.session.get(Customer, p.customer_id)
        plan, setup = _products(merchant)
        today = merchant.today()
        proposal = proposals.create(merchant, customer,
                                    [orders.Item(plan.id, 2), orders.Item(setup.id, 1)],
                                    valid_until=today + timedelta(days=days), note=note,
                                    today=today)
        if send:
            proposals.send(merchant, proposal, today)
        db.session.commit()
        p.proposal_id, p.plan_id, p.setup_id = proposal.id, plan.id, setup.id
    if switch_on:
        show_proposals(app, p)
    return p.proposal_id
