"""Two fully furnished merchants for the tenant-crossing, fuzz and header tests (#19 item 16).

`build_tenant` gives a merchant every kind of row a URL or a form can name (profiles, customers,
custom fields, products, invoices in each state, payments, a scheduled payment, a saved method,
admin users, an email message, credential and pay tokens, a logo), each marked with a string of
its own so a page that shows another merchant's data is caught by a substring test.
`snapshot` reads every row a merchant owns, to prove a request changed none of them.
"""
import hashlib
import uuid
from datetime import date, timedelta
from types import SimpleNamespace

from sqlalchemy import select

from tests.conftest import csrf_from, widget_login
from widget_server.core.extensions import db

# A 1x1 PNG: enough for the media store's sniffing.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5b0a3e50000000049454e44ae426082")

CUSTOMER_PASSWORD = "customer-pass-1"
OWNER_PASSWORD = "owner-pass-123"


def build_tenant(app, make_merchant, slug: str, mark: str):
    """A merchant `slug` whose every name, email and number carries `mark` (a distinctive
    word such as "Xyzzyb"); everything switched on that a page or form can need."""
    from widget_server.billing import issuing
    from widget_server.billing.invoices import build_invoice
    from widget_server.billing.models import Invoice, Payment, PaymentAllocation, PaymentMethod
    from widget_server.catalogue.models import Product
    from widget_server.commerce import orders
    from widget_server.commerce.models import Order, OrderLine, SalesAgent
    from widget_server.commerce.periods import advance
    from widget_server.core.passwords import hash_password
    from widget_server.customers import credentials
    from widget_server.customers import fields as field_service
    from widget_server.customers.models import Customer, CustomerEmail
    from widget_server.media import images
    from widget_server.notifications.models import EmailMessage
    from widget_server.profiles import preview
    from widget_server.profiles import services as profile_services
    from widget_server.tenancy import admins
    from widget_server.tenancy.models import Merchant

    low = mark.lower()
    merchant_id, owner_email = make_merchant(slug, name=f"{mark} Trading")
    t = SimpleNamespace(slug=slug, mark=mark, merchant_id=merchant_id, owner_email=owner_email,
                        base=f"/w/{slug}/standard", standalone=f"/p/{slug}")
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        # guest payment on, so its page and form exist to be crossed and fuzzed
        merchant.config = {"portal": {"enable_customer_portal": True,
                                      "allow_guest_invoice_payment": True}}
        profile = profile_services.create_profile(merchant, f"{mark} Standard", "standard")
        profile.settings = {**(profile.settings or {}),
                            "payment": {"edit_effective_date": True, "payment_amount": "any"},
                            "invoice": {"allow_new_invoice": True},
                            "order": {"allow_new_order": True, "allow_cancel_order": True,
                                      "allow_add_sales_agent": True, "allow_plan_change": True},
                            "customer": {"enable_customer_billing_run": True},
                            "cart": {"enable_shopping_cart": True,  # the cart widget (#22)
                                     "enable_guest_checkout": True},
                            "global": {"show_proposals": True,  # proposals (#23)
                                       "show_issues": True}}  # service issues (#23)
        other_profile = profile_services.create_profile(merchant, f"{mark} Wholesale",
                                                        "wholesale")
        field = field_service.create_definition(merchant, name=f"{mark} Tier",
                                                field_type="text", required=False, choices=[])
        choice = field_service.create_definition(merchant, name=f"{mark} Contact",
                                                 field_type="choice", required=False,
                                                 choices=[f"{mark}Email", f"{mark}Phone"])
        db.session.flush()
        customer = Customer(
            merchant_id=merchant_id, first_name=f"{mark}ina", last_name=f"{mark}son",
            company=f"{mark} Holdings", phone="+1 555 0100", address_line1=f"1 {mark} Road",
            city=f"{mark}ville", postal_code="12345", country="US", username=f"{low}-user",
            password_hash=hash_password(CUSTOMER_PASSWORD),
            custom_fields={str(field.id): f"{mark}Gold", str(choice.id): f"{mark}Email"})
        customer.emails = [CustomerEmail(merchant_id=merchant_id, address=a, position=i)
                           for i, a in enumerate((f"{low}@{low}.test",
                                                  f"ap-{low}@{low}.test"))]
        # a contact without portal access (invitations, create-credentials links)
        contact = Customer(merchant_id=merchant_id, first_name=f"{mark}ette",
                           last_name=f"{mark}berg", custom_fields={})
        contact.emails = [CustomerEmail(merchant_id=merchant_id,
                                        address=f"contact-{low}@{low}.test")]
        db.session.add_all([customer, contact])
        product = Product(merchant_id=merchant_id, sku=f"{mark}-SKU", name=f"{mark} Gadget",
                          unit_price_minor=5000, currency="USD")
        db.session.add(product)
        # offered in the cart widget (#22): its name is public on the merchant's cart page
        mug = Product(merchant_id=merchant_id, sku=f"{mark}-MUG", name=f"{mark} Mug",
                      unit_price_minor=900, currency="USD", in_cart=True)
        db.session.add(mug)
        # a subscription (issue #21): a monthly plan, its order billed to next month
        plan = Product(merchant_id=merchant_id, sku=f"{mark}-PLAN", name=f"{mark} Plan",
                       unit_price_minor=1500, currency="USD", interval="month")
        db.session.add(plan)
        db.session.flush()
        sub = Order(merchant_id=merchant_id, customer_id=customer.id,
                      number=f"{mark.upper()}-ORD-1", status="active", currency="USD",
                      total_minor=3000, start_date=date.today(), interval="month",
                      interval_count=1, anchor_day=date.today().day,
                      next_billing_date=advance(date.today(), "month", 1, date.today().day))
        order_line = OrderLine.for_product(merchant, plan, 2, 0, prices_include_tax=False)
        order_line.recurring = True
        sub.lines.append(order_line)
        db.session.add(sub)
        db.session.flush()

        def invoice(number, qty, status="issued"):
            built = build_invoice(merchant, customer, [(product, qty)],
                                  number=f"{mark.upper()}-{number}",
                                  issue_date=date.today(),
                                  due_date=date.today() + timedelta(days=qty))
            built.status = status
            db.session.flush()
            return built

        issued, second, draft = invoice("1001", 1), invoice("1002", 2), invoice("1003", 3,
                                                                                  "draft")
        paid = invoice("1004", 1)
        payment = Payment(merchant_id=merchant_id, customer_id=customer.id, amount_minor=5000,
                          currency="USD", status="succeeded", method="card",
                          reference=f"{low}-ref", method_label=f"Visa {mark}",
                          idempotency_key=uuid.uuid4().hex)
        payment.allocations.append(PaymentAllocation(invoice_id=paid.id,
                                                     merchant_id=merchant_id,
                                                     amount_minor=5000))
        paid.balance_minor, paid.status = 0, "paid"
        scheduled = Payment(merchant_id=merchant_id, customer_id=customer.id,
                            amount_minor=10000, currency="USD", status="scheduled",
                            source="browser", method="card", method_token="sandbox:succeeded:4242",
                            scheduled_for=date.today() + timedelta(days=5),
                            plan={"invoice_ids": [second.id], "kind": "card"},
                            idempotency_key=uuid.uuid4().hex)
        method = PaymentMethod(merchant_id=merchant_id, customer_id=customer.id, kind="card",
                               token="sandbox:succeeded:4242", label=f"Visa {mark} 4242",
                               expires="12/39", is_default=True)
        spare = PaymentMethod(merchant_id=merchant_id, customer_id=customer.id, kind="card",
                              token="sandbox:succeeded:0005", label=f"Amex {mark} 0005",
                              expires="11/38", is_default=False)
        db.session.add_all([payment, scheduled, method, spare])
        staff = admins.create_admin(merchant, f"staff@{low}.test", "staff-pass-123", "staff",
                                    f"{mark} Staffer")
        message = EmailMessage(merchant_id=merchant_id, email_type="invoice_issued",
                               to_address=f"{low}@{low}.test", subject=f"{mark} invoice ready",
                               text_body=f"Dear {mark}ina", html_body=f"<p>Dear {mark}ina</p>",
                               message_id=f"<{uuid.uuid4().hex}@{low}.test>", status="failed",
                               last_error="550 no such user")
        db.session.add(message)
        logo = images.store(merchant_id, PNG)
        # a sales agent and an order placed through the service (number, lines, first invoice)
        agent = SalesAgent(merchant_id=merchant_id, name=f"{mark} Agent",
                           email=f"agent@{low}.test")
        db.session.add(agent)
        db.session.flush()
        order = orders.place(merchant, customer, [orders.Item(plan.id, 1)], date.today(),
                             sales_agent_id=agent.id)
        # as if started a month ago: its next period is due, "Bill now" would bill it
        order.start_date = date.today() - timedelta(days=31)
        order.anchor_day, order.next_billing_date = date.today().day, date.today()
        first_invoice = db.session.get(Invoice, order.invoice_id)
        first_invoice.period_start, first_invoice.period_end = order.start_date, date.today()
        db.session.flush()
        # proposals (#23): a sent, open one (Accept and Decline offered) and a draft
        from widget_server.commerce import proposals

        offer = proposals.create(merchant, customer, [orders.Item(plan.id, 2)],
                                 valid_until=date.today() + timedelta(days=30),
                                 note=f"{mark} proposal note", today=date.today())
        proposals.send(merchant, offer, date.today())
        draft_offer = proposals.create(merchant, customer, [orders.Item(product.id, 1)],
                                       valid_until=date.today() + timedelta(days=30),
                                       note=f"{mark} draft note", today=date.today())
        t.proposal_ids = [offer.id, draft_offer.id]
        # a service issue (#23) with an attachment, answered by the owner
        from widget_server.support import services as issues

        issue = issues.open_issue(merchant, customer, f"{mark} broken gadget",
                                  f"{mark} gadget smokes", [(f"{low}.txt", b"log")])
        issues.admin_reply(merchant, admins.find_by_email(owner_email), issue, "On it")
        t.issue_ids = [issue.id]
        t.attachment_ids = [a.id for m in issue.messages for a in m.attachments]
        t.tokens = {purpose: credentials.issue_token(contact if purpose != "reset" else customer,
                                                     purpose)
                    for purpose in ("create", "invite", "reset")}
        t.pay_token = issuing.pay_token(issued)
        from widget_server.tenancy import api_keys  # an API key (#25): revoked by id

        t.key_ids = [api_keys.create_key(merchant, f"{mark} Key")[0].id]
        from widget_server.webhooks.models import WebhookDelivery, WebhookEndpoint

        hook = WebhookEndpoint(merchant_id=merchant_id, url=f"https://{low}.example/hook",
                               description=f"{mark} Hook", event_types=["invoice.issued"],
                               secret="whsec_" + "A" * 32)  # a webhook endpoint (#25)
        db.session.add(hook)
        db.session.flush()
        delivery = WebhookDelivery(merchant_id=merchant_id, endpoint_id=hook.id,
                                   event_type="invoice.issued", message_id=f"msg_{low}",
                                   response_excerpt=f"{mark} hook answer")
        db.session.add(delivery)
        db.session.flush()
        t.endpoint_ids, t.delivery_ids = [hook.id], [delivery.id]
        t.preview_token = preview.make_token(profile)
        owner = admins.find_by_email(owner_email)
        t.profile_id, t.other_profile_id = profile.id, other_profile.id
        t.field_ids = [field.id, choice.id]
        t.customer_id, t.contact_id = customer.id, contact.id
        t.product_id, t.plan_id, t.cart_product_id = product.id, plan.id, mug.id
        t.invoice_ids = [issued.id, second.id, draft.id, paid.id]
        t.payment_ids = [payment.id, scheduled.id]
        t.method_ids = [method.id, spare.id]
        t.admin_ids = [owner.id, staff.id]
        t.message_id = message.id
        t.order_ids, t.agent_ids = [sub.id, order.id], [agent.id]
        # money going back (#24): a refund under way on the card payment, a credit note
        from widget_server.billing.models import CreditNote, Refund

        refund = Refund(merchant_id=merchant_id, customer_id=customer.id,
                        payment_id=payment.id, amount_minor=100, currency="USD",
                        reason=f"{mark} refund reason", status="pending",
                        idempotency_key=uuid.uuid4().hex)
        note = CreditNote(merchant_id=merchant_id, customer_id=customer.id,
                          invoice_id=paid.id, number=f"{mark.upper()}-CN-1", amount_minor=100,
                          applied_minor=0, credit_minor=100, currency="USD",
                          reason=f"{mark} credit reason", idempotency_key=uuid.uuid4().hex,
                          issue_date=date.today())
        payment.refunded_minor = 100  # what the pending refund holds
        db.session.add_all([refund, note])
        db.session.flush()
        t.refund_ids, t.credit_note_ids = [refund.id], [note.id]
        t.logo = logo
        t.logo_digest = hashlib.sha256(PNG).hexdigest()
        db.session.commit()
    # Strings only this merchant's pages may show. The merchant's own name is public (its
    # sign-in page shows it); everything about its customers, staff and money is not.
    t.secrets = [f"{mark}ina", f"{mark}son", f"{mark} Holdings", f"{low}@{low}.test",
                 f"{mark}ette", f"contact-{low}", f"{mark} Tier", f"{mark} Contact",
                 f"{mark}Gold", f"{mark} Gadget", f"{mark.upper()}-100", f"{mark} Standard",
                 f"{mark} Wholesale", f"staff@{low}.test", f"{mark} Staffer",
                 f"{mark} invoice ready", f"Visa {mark}", f"Amex {mark}", f"{low}-ref",
                 f"{mark}ville", f"{low}-user", f"{mark} Agent", f"{mark} Plan",
                 f"{mark} proposal note", f"{mark} draft note",
                 f"{mark} broken gadget", f"{mark} gadget smokes", f"{mark} refund reason",
                 f"{mark} credit reason",
                 f"{mark} Key", f"{mark} Hook", f"{mark} hook answer"]
    return t


def sign_in_owner(app, t):
    """A test client signed in to the admin as `t`'s owner; `t.admin_csrf` is its token."""
    client = app.test_client()
    page = client.get("/admin/login")
    answer = client.post("/admin/login", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "email": t.owner_email,
        "password": OWNER_PASSWORD})
    assert answer.status_code == 302, answer.status_code
    t.admin = client
    t.admin_csrf = csrf_from(client.get("/admin/customers/new").get_data(as_text=True))
    return client


def sign_in_customer(app, t):
    """A test client signed in to the widget as `t`'s customer; `t.widget_csrf` its token."""
    client = app.test_client()
    answer = widget_login(client, t.base, f"{t.mark.lower()}-user", CUSTOMER_PASSWORD)
    assert answer.status_code == 302, answer.status_code
    t.widget = client
    t.widget_csrf = csrf_from(client.get(f"{t.base}/profile").get_data(as_text=True))
    # a line in the customer's cart (#22): the cart page offers its change and remove forms
    added = client.post(f"{t.base}/cart/add", data={"csrf_token": t.widget_csrf,
                                                    "product": str(t.cart_product_id)})
    assert added.status_code == 302, added.status_code
    return client


def owned_tables():
    """Every table whose rows belong to one merchant (a `merchant_id` column), and the merchant
    table itself."""
    return [table for table in db.metadata.sorted_tables
            if "merchant_id" in table.c or table.name == "merchant"]


def snapshot(app, merchant_id: int, *, ignore: dict[str, set[str]] | None = None) -> dict:
    """Every row `merchant_id` owns, table by table, as sorted tuples of column values.

    `ignore` leaves out columns whose change is expected bookkeeping (e.g. a session's
    last-seen time); {"*"} leaves out a whole table."""
    ignore = ignore or {}
    found = {}
    with app.app_context():
        for table in owned_tables():
            if ignore.get(table.name) == {"*"}:  # a whole table of bookkeeping
                continue
            key = table.c.id if table.name == "merchant" else table.c.merchant_id
            columns = [c for c in table.c if c.name not in ignore.get(table.name, set())]
            rows = db.session.execute(select(*columns).where(key == merchant_id)).all()
            found[table.name] = sorted(tuple(map(repr, row)) for row in rows)
        db.session.remove()
    return found


def changed_tables(before: dict, after: dict) -> dict:
    """Table -> (rows gone, rows new) wherever two snapshots differ."""
    return {name: ([r for r in before[name] if r not in after[name]],
                   [r for r in after[name] if r not in before[name]])
            for name in before if before[name] != after[name]}


def leaked(body: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in body]
