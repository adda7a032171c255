"""The demo merchant for `make run` and manual testing; idempotent (a second run changes nothing).

These credentials are for local use only.
"""
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from ..billing.invoices import build_invoice, next_invoice_number
from ..billing.models import Invoice, Payment, PaymentAllocation
from ..billing.payments import number as number_payment
from ..catalogue.models import Product
from ..commerce import orders, proposals
from ..commerce.models import Order, SalesAgent
from ..commerce.proposal_models import Proposal
from ..core.extensions import db
from ..core.passwords import hash_password
from ..customers import fields as custom_fields
from ..customers.models import Customer, CustomerEmail
from ..profiles import services as profiles
from ..tenancy import admins, audit
from ..tenancy.configuration import BUSINESS as BUSINESS_GROUP
from ..tenancy.configuration import EMBEDDING
from ..tenancy.models import Merchant

DEMO_SLUG = "demo"
OWNER_EMAIL = "admin@demo.test"
OWNER_PASSWORD = "demo-admin-pass"  # noqa: S105  (documented local-only demo credential)
STAFF_EMAIL = "staff@demo.test"
STAFF_PASSWORD = "demo-staff-pass"  # noqa: S105
CUSTOMER_USERNAME = "demo"
CUSTOMER_EMAILS = ("customer@demo.test", "accounts@demo.test")
CUSTOMER_PASSWORD = "demo-customer-pass"  # noqa: S105
INVITEE_EMAIL = "lena@demo.test"

# offered in the cart widget on the demo shop's Shop page (#22): the one-off items
IN_CART = frozenset({"HIKE-BOOT", "RAIN-JKT", "TENT-2P", "STOVE"})
CATALOGUE = (  # sku, name, price in cents (tax included), tax rate (bp), billed every (None: once)
    ("HIKE-BOOT", "Trail hiking boots", 14900, 1900, None),
    ("RAIN-JKT", "Waterproof rain jacket", 18950, 1900, None),
    ("TENT-2P", "Two-person tent", 32900, 1900, None),
    ("STOVE", "Camping stove", 5990, 1900, None),
    ("MAP-SUB", "Trail map subscription (monthly)", 990, 700, "month"),
    ("SERVICE", "Gear servicing", 4500, 1900, None),
    ("CARE-PLAN", "Gear care plan (yearly)", 4900, 1900, "year"),
)
BUSINESS = {"legal_name": "Demo Outfitters GmbH", "tax_number": "DE123456789",
            "address": "Bergstraße 12\n80331 München\nDeutschland", "prices_include_tax": True}
AGENTS = (("Mia Fischer", "mia@demo.test"), ("Jonas Weber", "jonas@demo.test"))


def seed_demo() -> list[str]:
    merchant = db.session.scalar(select(Merchant).where(Merchant.slug == DEMO_SLUG))
    if merchant is None:
        merchant = Merchant(slug=DEMO_SLUG, name="Demo Outfitters", currency="EUR",
                            locale="de_DE", timezone="Europe/Berlin", config={})
        db.session.add(merchant)
        db.session.flush()
    _ensure_admin(merchant, OWNER_EMAIL, OWNER_PASSWORD, "owner", "Demo Owner")
    _ensure_admin(merchant, STAFF_EMAIL, STAFF_PASSWORD, "staff", "Demo Staff")
    if profiles.find_by_slug(merchant, "default") is None:
        profile = profiles.create_profile(merchant, "Standard portal", "default")
        # what the demo shows off beyond the defaults: scheduling, any amount, new invoices,
        # and orders: new, cancel, a sales agent, a plan change, Bill now (#21)
        profile.settings = {**(profile.settings or {}),
                            "payment": {"edit_effective_date": True, "payment_amount": "any"},
                            "invoice": {"allow_new_invoice": True},
                            "order": {"allow_new_order": True, "allow_cancel_order": True,
                                      "allow_add_sales_agent": True, "allow_plan_change": True},
                            "customer": {"enable_customer_billing_run": True}}
        db.session.flush()
    _ensure_cart(profiles.find_by_slug(merchant, "default"))
    _ensure_show_issues(profiles.find_by_slug(merchant, "default"))
    _ensure_custom_fields(merchant)
    _ensure_audit_history(merchant)
    _ensure_business(merchant)
    products = _ensure_products(merchant)
    agents = _ensure_agents(merchant)
    customer = _ensure_customer(merchant, agents[0])
    _ensure_contact_to_invite(merchant)
    _ensure_invoices(merchant, customer, products)
    _ensure_orders(merchant, customer, products, agents[0])
    _ensure_duplicate(merchant, products)
    _ensure_proposal(merchant, customer, products, profiles.find_by_slug(merchant, "default"))
    _ensure_issue(merchant, customer)
    _ensure_money_back(merchant, customer)
    shop_origin = _ensure_shop_origin(merchant)
    db.session.flush()  # the command commits
    base = current_app.config["PUBLIC_URL"]
    return [
        f"Demo shop:    {shop_origin}/demo/shop   (embeds the widget from {base}, cross-site)",
        f"  Shop page   {shop_origin}/demo/shop/products   (the cart beside the account widget)",
        f"Admin:        {base}/admin/",
        f"  owner       {OWNER_EMAIL} / {OWNER_PASSWORD}",
        f"  staff       {STAFF_EMAIL} / {STAFF_PASSWORD}",
        f"Customer:     {CUSTOMER_USERNAME} (or {CUSTOMER_EMAILS[0]}) / {CUSTOMER_PASSWORD}",
        f"  duplicate   {DUPLICATE_EMAIL}: flagged in Admin → Customers, to compare and merge",
        "(demo credentials: for local use only)",
    ]


def _ensure_shop_origin(merchant) -> str:
    """The demo shop is served on 127.0.0.1 at the app's port; that origin may frame the widget.
    Re-running with another PORT adds the new origin, so `PORT=8000 make run` still works."""
    port = urlsplit(current_app.config["PUBLIC_URL"]).port or 80
    origin = f"http://127.0.0.1:{port}"
    config = dict(merchant.config or {})
    embedding = dict(config.get(EMBEDDING.key) or {})
    origins = list(embedding.get("allowed_origins") or [])
    if origin not in origins:
        embedding["allowed_origins"] = [*origins, origin]
    # links in the demo's emails open the portal inside the demo shop
    embedding["portal_page_url"] = f"{origin}/demo/shop"
    config[EMBEDDING.key] = embedding
    merchant.config = config
    return origin


def _ensure_cart(profile) -> None:
    """Enable Shopping Cart in iFrame and guest checkout on the demo profile, also in a demo
    seeded before the cart (#22): the Shop page embeds the cart widget."""
    settings = dict(profile.settings or {})
    cart = dict(settings.get("cart") or {})
    if cart.get("enable_shopping_cart") is not True:
        # and guest checkout: the Shop page sells to a visitor without an account too (#22)
        cart["enable_shopping_cart"] = cart["enable_guest_checkout"] = True
        settings["cart"] = cart
        profile.settings = settings
        db.session.flush()


def _ensure_show_issues(profile) -> None:
    """Show Issues on the demo profile, also in a demo seeded before service issues (#23)."""
    settings = dict(profile.settings or {})
    look = dict(settings.get("global") or {})
    if look.get("show_issues") is not True:
        look["show_issues"] = True
        settings["global"] = look
        profile.settings = settings
        db.session.flush()


def _ensure_issue(merchant, customer) -> None:
    """An open service issue of the demo customer with the owner's answer (#23): the customer
    writes again in the portal, the admin answers from Issues."""
    from ..support import services as issues
    from ..support.models import ServiceIssue

    if db.session.scalar(select(ServiceIssue.id).where(ServiceIssue.merchant_id == merchant.id)):
        return
    issue = issues.open_issue(
        merchant, customer, "Tent pole cracked after two trips",
        "Hello,\n\none of the poles of the two-person tent cracked at the joint on our second "
        "trip. My notes on where it broke are attached.\n\nCan you send a replacement pole?",
        [("pole.txt", b"The pole nearest the door, 3 cm from the joint, split lengthwise.")])
    issues.admin_reply(merchant, admins.find_by_email(OWNER_EMAIL), issue,
                       "Sorry about that! A replacement pole is on its way, free of charge. "
                       "Tell us here when it has arrived.")


def _ensure_admin(merchant, email, password, role, name) -> None:
    if admins.find_by_email(email) is None:
        admins.create_admin(merchant, email, password, role, name)


def _ensure_custom_fields(merchant) -> None:
    existing = {d.name for d in custom_fields.list_definitions(merchant)}
    if "Account manager" not in existing:
        custom_fields.create_definition(merchant, name="Account manager", field_type="text",
                                        required=False, choices=[])
    if "Preferred contact" not in existing:
        custom_fields.create_definition(merchant, name="Preferred contact", field_type="choice",
                                        required=False, choices=["Email", "Phone", "Post"])


def _ensure_audit_history(merchant) -> None:
    """The Audit log (#24 item 6) opens with the owner's definition of the demo's custom fields;
    whatever the demo admin changes joins it."""
    owner = admins.find_by_email(OWNER_EMAIL)
    for definition in custom_fields.list_definitions(merchant):
        subject = audit.subject_of("custom_field", definition.id)
        if not audit.for_subject(merchant, subject, limit=1):
            audit.changed(owner, "custom_field.created", subject, None, {
                "name": definition.name, "type": definition.field_type,
                "required": definition.required, "choices": definition.choices},
                label=definition.name)


def _ensure_products(merchant) -> dict[str, Product]:
    have = {p.sku: p for p in db.session.scalars(
        select(Product).where(Product.merchant_id == merchant.id))}
    for sku, name, price, rate, interval in CATALOGUE:
        if sku not in have:
            have[sku] = Product(merchant_id=merchant.id, sku=sku, name=name,
                                unit_price_minor=price, currency=merchant.currency,
                                tax_rate_bp=rate, interval=interval)
            db.session.add(have[sku])
        elif not have[sku].tax_rate_bp:  # a demo seeded before tax and recurring prices
            have[sku].tax_rate_bp, have[sku].interval = rate, interval
        if sku in IN_CART:  # also a demo seeded before the cart (#22)
            have[sku].in_cart = True
    db.session.flush()
    return have


def _ensure_agents(merchant) -> list[SalesAgent]:
    have = {a.name: a for a in db.session.scalars(
        select(SalesAgent).where(SalesAgent.merchant_id == merchant.id))}
    for name, email in AGENTS:
        if name not in have:
            have[name] = SalesAgent(merchant_id=merchant.id, name=name, email=email)
            db.session.add(have[name])
    db.session.flush()
    return [have[name] for name, _ in AGENTS]


def _ensure_customer(merchant, agent) -> Customer:
    customer = db.session.scalar(select(Customer).where(
        Customer.merchant_id == merchant.id, Customer.username == CUSTOMER_USERNAME))
    if customer is None:
        definitions = {d.name: d for d in custom_fields.list_definitions(merchant)}
        customer = Customer(
            merchant_id=merchant.id, first_name="Dana", last_name="Łukasiewicz",
            company="Alpine Trek Club", phone="+49 30 1234567",
            address_line1="Bergstraße 12", city="Berlin", postal_code="10115", country="DE",
            username=CUSTOMER_USERNAME, password_hash=hash_password(CUSTOMER_PASSWORD),
            sales_agent_id=agent.id,
            custom_fields={str(definitions["Account manager"].id): "Mia Fischer",
                           str(definitions["Preferred contact"].id): "Email"})
        customer.emails = [CustomerEmail(merchant_id=merchant.id, address=a, position=i)
                           for i, a in enumerate(CUSTOMER_EMAILS)]
        db.session.add(customer)
        db.session.flush()
    return customer


def _ensure_contact_to_invite(merchant) -> None:
    """A contact without portal access, to try invitations and sign-up with."""
    exists = db.session.scalar(select(CustomerEmail.id).where(
        CustomerEmail.merchant_id == merchant.id, CustomerEmail.address == INVITEE_EMAIL))
    if exists is None:
        lena = Customer(merchant_id=merchant.id, first_name="Lena", last_name="Berg",
                        company="Berg Climbing School", custom_fields={})
        lena.emails = [CustomerEmail(merchant_id=merchant.id, address=INVITEE_EMAIL)]
        db.session.add(lena)
        db.session.flush()


# (age of the invoice in days, items, outcome): paid, outstanding (due later) or overdue.
INVOICE_PLAN = (
    (330, [("TENT-2P", 1)], "paid"), (300, [("SERVICE", 1)], "paid"),
    (270, [("HIKE-BOOT", 2)], "paid"), (240, [("SERVICE", 1)], "paid"),
    (200, [("SERVICE", 1), ("STOVE", 1)], "paid"), (170, [("SERVICE", 1)], "paid"),
    (120, [("RAIN-JKT", 1)], "partial"), (75, [("STOVE", 1)], "overdue"),
    (45, [("SERVICE", 2)], "overdue"), (20, [("STOVE", 2)], "outstanding"),
    (10, [("SERVICE", 1)], "outstanding"), (2, [("HIKE-BOOT", 1), ("SERVICE", 1)],
                                            "outstanding"),
)


def _ensure_money_back(merchant, customer) -> None:
    """#24: part of the first card payment refunded (REF-00001) and a credit note (CN-00001)
    on the oldest overdue invoice, both in the customer's payment history; the admin refunds
    more from the payment's page (sandbox) and credits from the invoice's."""
    from ..billing import credit_notes
    from ..billing.models import CreditNote, Refund
    from ..tenancy.counters import next_number

    if db.session.scalar(select(Refund.id).where(Refund.merchant_id == merchant.id)) is None:
        payment = db.session.scalar(select(Payment).where(
            Payment.merchant_id == merchant.id, Payment.customer_id == customer.id,
            Payment.status == "succeeded", Payment.source == "browser")
            .order_by(Payment.id).limit(1))
        if payment is not None:
            amount = min(2500, payment.amount_minor)
            db.session.add(Refund(
                merchant_id=merchant.id, customer_id=customer.id, payment_id=payment.id,
                number=f"REF-{next_number(merchant, 'refund'):05d}", amount_minor=amount,
                currency=payment.currency, reason="Goodwill: scratched fly sheet",
                status="succeeded", reference="sbx_re_demo-1", idempotency_key="demo-refund-1",
                created_at=payment.created_at + timedelta(days=3)))
            payment.refunded_minor = amount
    if db.session.scalar(select(CreditNote.id).where(
            CreditNote.merchant_id == merchant.id)) is None:
        overdue = db.session.scalar(select(Invoice).where(
            Invoice.merchant_id == merchant.id, Invoice.customer_id == customer.id,
            Invoice.status == "issued", Invoice.balance_minor == Invoice.total_minor,
            Invoice.due_date < date.today()).order_by(Invoice.due_date).limit(1))
        if overdue is not None:
            credit_notes.issue(merchant, overdue, min(1000, overdue.balance_minor - 1),
                               reason="Delivered two weeks late", idempotency_key="demo-cn-1",
                               today=date.today())


def _ensure_invoices(merchant, customer, products) -> None:
    exists = db.session.scalar(select(Invoice.id).where(Invoice.merchant_id == merchant.id,
                                                        Invoice.customer_id == customer.id))
    if exists:
        return
    today = date.today()
    for index, (age, items, outcome) in enumerate(INVOICE_PLAN, start=1):
        issued = today - timedelta(days=age)
        invoice = build_invoice(merchant, customer,
                                [(products[sku], qty) for sku, qty in items],
                                number=next_invoice_number(merchant), issue_date=issued,
                                due_date=issued + timedelta(days=30))
        invoice.created_at = datetime.combine(issued, time(9), UTC)
        if outcome in ("paid", "partial"):
            db.session.flush()
            paid = invoice.total_minor if outcome == "paid" else invoice.total_minor // 2
            paid_on = datetime.combine(issued + timedelta(days=12), time(10), UTC)
            payment = Payment(merchant_id=merchant.id, customer_id=customer.id,
                              amount_minor=paid, currency=invoice.currency, status="succeeded",
                              method="card", method_label="Visa •••• 4242",
                              # a sandbox charge's reference: refundable from the admin (#24)
                              reference=f"sbx_demo-{index}", created_at=paid_on,
                              plan={"invoice_ids": [invoice.id], "gateway": "sandbox"})
            number_payment(merchant, payment)
            payment.allocations.append(PaymentAllocation(invoice_id=invoice.id,
                                                         merchant_id=merchant.id,
                                                         amount_minor=paid))
            db.session.add(payment)
            invoice.balance_minor -= paid
            invoice.status = "paid" if invoice.balance_minor == 0 else "issued"


DUPLICATE_EMAIL = "dana.l@example.test"


def _ensure_duplicate(merchant, products) -> None:
    """A likely duplicate of the demo customer (#23 item 5), as a guest payment makes one: the
    same name and phone written differently, another address, one invoice of its own. Looked
    up by its address, which a merge moves to the survivor: a merged demo stays merged."""
    exists = db.session.scalar(select(CustomerEmail.id).where(
        CustomerEmail.merchant_id == merchant.id, CustomerEmail.address == DUPLICATE_EMAIL))
    if exists is not None:
        return
    twin = Customer(merchant_id=merchant.id, first_name="DANA", last_name="Łukasiewicz",
                    phone="+49 (30) 123 45 67", custom_fields={})
    twin.emails = [CustomerEmail(merchant_id=merchant.id, address=DUPLICATE_EMAIL)]
    db.session.add(twin)
    db.session.flush()
    issued = date.today() - timedelta(days=5)
    build_invoice(merchant, twin, [(products["STOVE"], 1)],
                  number=next_invoice_number(merchant), issue_date=issued,
                  due_date=issued + timedelta(days=30))


BUSINESS_SECTION = BUSINESS_GROUP.key


def _ensure_business(merchant) -> None:
    config = dict(merchant.config or {})
    if BUSINESS_SECTION not in config:
        config[BUSINESS_SECTION] = dict(BUSINESS)
        merchant.config = config


def _ensure_orders(merchant, customer, products, agent) -> None:
    """Two active subscriptions: the monthly map subscription started three weeks ago (its
    next period comes in about a week) and a yearly care plan with a one-time tent."""
    if db.session.scalar(select(Order.id).where(Order.merchant_id == merchant.id)):
        return
    today = date.today()
    for started, items in ((today - timedelta(days=21), [("MAP-SUB", 1)]),
                           (today - timedelta(days=60), [("CARE-PLAN", 1), ("TENT-2P", 1)])):
        orders.place(merchant, customer,
                     [orders.Item(products[sku].id, qty) for sku, qty in items], started,
                     sales_agent_id=agent.id)


PROPOSAL_NOTE = ("As discussed at the club meeting: a yearly care plan for the club's gear, "
                 "with a first servicing of every tent included.")


def _ensure_proposal(merchant, customer, products, profile) -> None:
    """Show Proposals on in the demo profile, also in a demo seeded before proposals (#23),
    and a sent proposal for the demo customer to accept or decline: a yearly care plan and a
    one-time servicing, valid for a month."""
    settings = dict(profile.settings or {})
    look = dict(settings.get("global") or {})
    if look.get("show_proposals") is not True:
        look["show_proposals"] = True
        settings["global"] = look
        profile.settings = settings
        db.session.flush()
    if db.session.scalar(select(Proposal.id).where(Proposal.merchant_id == merchant.id)):
        return
    today = merchant.today()
    proposal = proposals.create(
        merchant, customer, [orders.Item(products["CARE-PLAN"].id, 1),
                             orders.Item(products["SERVICE"].id, 2)],
        valid_until=today + timedelta(days=30), note=PROPOSAL_NOTE, today=today)
    proposals.send(merchant, proposal, today)
