"""SQL statements per widget page stay constant as a merchant's data grows (B-2, #26).

First the login page, the one every visitor sees first; then every widget GET page a signed-in
customer can open, both faces, from the URL map, each within its ceiling in CEILINGS (a new page
fails until it has one). The overview, invoice list and others are also covered beside their
pages (test_widget_pages.py, test_invoices.py, …); `make bench` prints the counts it measures.
"""
import uuid
from datetime import date, timedelta

from sqlalchemy import select

from tests.tenant_support import PNG
from widget_server.core.extensions import db
from widget_server.customers.models import Customer, CustomerEmail
from widget_server.profiles import services as profile_services
from widget_server.tenancy.models import Merchant


def test_login_page_query_count_is_constant(app, portal, count_queries):
    p = portal()
    client = app.test_client()
    pages = (f"{p.base}/login", f"{p.standalone}/login")  # embedded and standalone

    def counts():
        result = []
        for url in pages:
            with count_queries() as counter:
                assert client.get(url).status_code == 200
            result.append(counter)
        return result

    few = counts()
    with app.app_context():  # more of everything the page could be tempted to read
        merchant = db.session.get(Merchant, p.merchant_id)
        for n in range(3):
            profile_services.create_profile(merchant, f"Extra {n}", f"extra-{n}")
            db.session.commit()
        for n in range(30):
            customer = Customer(merchant_id=p.merchant_id, first_name="C", last_name=str(n),
                                custom_fields={})
            customer.emails = [CustomerEmail(merchant_id=p.merchant_id,
                                             address=f"c{n}@example.test")]
            db.session.add(customer)
        db.session.commit()
    many = counts()
    assert [c.count for c in few] == [c.count for c in many]
    # the merchant by its slug and the profile; no session, customer or invoice is read
    assert all(1 <= c.count <= 2 for c in many), [c.statements for c in many]


# ---------------------------------------------------------------------------------------------
# Every widget GET page a signed-in customer can open (issue #26): from the URL map, both faces
# (embedded `widget.` at /w/<merchant>/<profile>/…, standalone `portal.` at /p/<merchant>/…),
# measured with a little data, then with much more of everything a page could read per row;
# the counts must be equal and within the page's ceiling below.
# ---------------------------------------------------------------------------------------------

# endpoint (without the blueprint's name) -> the most SQL statements its GET may send, signed in.
# A new GET page fails `test_every_widget_page_keeps_its_statement_count` until it has a line
# here (or, with a reason, in NOT_MEASURED). The numbers are today's counts: lower them as pages
# get cheaper, never raise one without saying why in the commit.
CEILINGS = {
    # signed-in pages of their own
    "overview": 2,
    "invoices": 2,
    "invoice_detail": 3,
    "invoice_pdf": 3,
    "invoices_pdf": 4,  # every invoice of the customer (up to 500), their lines in one more
    "new_invoice": 2,
    "pay_invoices": 5,
    "payment_history": 8,
    "payment_receipt": 4,
    "payment_receipt_pdf": 4,
    "credit_note_pdf": 3,
    "payment_methods": 2,
    "profile": 3,
    "change_password": 1,
    "orders": 2,
    "order_detail": 5,  # plan changes still to bill (#21 browser pass)
    "new_order": 2,
    "cancel_order": 3,
    "order_change": 4,
    "proposals": 3,
    "proposal_detail": 3,
    "proposal_pdf": 3,
    "issues_list": 2,
    "new_issue": 1,
    "issue_detail": 4,
    "issue_attachment": 2,
    "cart": 6,
    "cart_checkout": 6,
    # the signed-out pages, as a signed-in customer meets them (the merchant, profile, session
    # and customer: one statement since #26)
    "index": 1,
    "login": 1,
    "cookie_check": 1,
    "enrol": 1,
    "forgot": 1,
    "cart_guest": 1,
    "cart_guest_code": 1,
    "cart_guest_checkout": 1,
    "not_found": 1,
}

# GET routes the walk leaves out, and why: each needs something a signed-in customer's
# navigation does not give (a token from an email or a link, an admin's signature).
NOT_MEASURED = {
    "create_credentials": "a create-credentials token from an invitation email",
    "reset": "a password-reset token from an email",
    "pay": "a Pay invoice link's token (it only redirects to the invoice or the Pay page)",
    "guest_pay": "a guest's Pay link token; never signed in",
    "preview_page": "the admin's signed preview token",
}

# Routes that answer only a POST (a form's action, no page of their own): nothing to measure.
# Listed so that the walk's view of the URL map is checked whole.
POST_ONLY = {"accept_proposal", "decline_proposal", "autopay", "default_method", "remove_method",
             "bill_order", "sales_agent", "cancel_payment", "cart_add", "cart_update",
             "cart_remove", "logout"}

# What a signed-in customer gets where it is not the page itself (a redirect to the account,
# the widget's own 404 for an unknown address); every other page answers 200.
ANSWERS = {
    "index": 302,  # to the overview
    "login": 302,  # signed in meanwhile: to the overview
    "cart_guest": 302,  # the guest checkout: a signed-in customer checks out as themselves
    "cart_guest_code": 302,
    "cart_guest_checkout": 302,
    "not_found": 404,
}

# URL arguments -> the signed-in customer's own row to open (t: tests.tenant_support's tenant).
ARGUMENTS = {
    "invoice_id": lambda t: t.invoice_ids[0],  # issued, open: Pay offered
    "payment_id": lambda t: t.payment_ids[0],  # succeeded: its receipt
    "order_id": lambda t: t.order_ids[0],  # an active subscription: cancel and change offered
    "proposal_id": lambda t: t.proposal_ids[0],  # sent, open: Accept and Decline
    "issue_id": lambda t: t.issue_ids[0],  # answered, with an attachment
    "attachment_id": lambda t: t.attachment_ids[0],
    "note_id": lambda t: t.credit_note_ids[0],
    "unknown": lambda t: "no-such-page",  # the widget's own 404 page
}


def _widget_pages(app, t):
    """(endpoint, url) of every GET route of both widget faces, from the URL map."""
    from widget_server.widget import EMBEDDED, STANDALONE

    adapter = app.url_map.bind("localhost")
    pages = []
    for rule in app.url_map.iter_rules():
        face, _, name = rule.endpoint.partition(".")
        if face not in (EMBEDDED, STANDALONE) or "GET" not in rule.methods \
                or name in NOT_MEASURED:
            continue
        values = {"merchant_slug": t.slug, "profile_slug": "standard"}
        for argument in rule.arguments - values.keys():
            assert argument in ARGUMENTS, (
                f"{rule.endpoint}: give <{argument}> a line in ARGUMENTS (the customer's own "
                "row) or the route a reason in NOT_MEASURED")
            values[argument] = ARGUMENTS[argument](t)
        pages.append((rule.endpoint, adapter.build(
            rule.endpoint, {k: v for k, v in values.items() if k in rule.arguments})))
    return sorted(pages)


def _measure(count_queries, client, pages):
    """Statements each page sends; outside any app context of the test's own, so each request
    has its own (a shared one would keep the ORM session, and its identity map, between them)."""
    counts = {}
    for endpoint, url in pages:
        name = endpoint.rpartition(".")[2]
        with count_queries() as counter:
            answer = client.get(url)
        assert answer.status_code == ANSWERS.get(name, 200), (url, answer.status_code)
        counter.size = len(answer.get_data())
        counts[endpoint] = counter
    return counts


def _receipt_number(merchant) -> int:
    from sqlalchemy import func

    from widget_server.billing.models import Payment

    db.session.flush()
    return (db.session.scalar(select(func.max(Payment.number)).where(
        Payment.merchant_id == merchant.id)) or 0) + 1


def _furnish(merchant, customer, n: int, tag: str, *, grow=None) -> None:
    """n more of everything a customer can have: invoices of three lines, payments over two
    invoices each (succeeded, failed, scheduled), refunds, credit notes, saved methods, orders
    of two lines with their invoices, sent proposals of two lines, service issues with replies
    and attachments, a cart of several products. `grow` (the tenant) also lengthens the rows
    the walk opens: more lines, allocations, messages on the very invoice, payment, order,
    proposal and issue whose pages are measured."""
    from widget_server.billing.invoices import build_invoice
    from widget_server.billing.models import (
        CreditNote,
        Invoice,
        InvoiceLine,
        Payment,
        PaymentAllocation,
        PaymentMethod,
        Refund,
    )
    from widget_server.catalogue.models import Product
    from widget_server.commerce import carts, orders, proposals
    from widget_server.commerce.models import Cart, Order, OrderLine
    from widget_server.commerce.proposal_models import Proposal, ProposalLine
    from widget_server.support import services as issues
    from widget_server.support.models import ServiceIssue

    today = date.today()
    goods = [Product(merchant_id=merchant.id, sku=f"{tag}-G{i}", name=f"{tag} good {i}",
                     unit_price_minor=1000 + i, currency=merchant.currency, in_cart=True)
             for i in range(n)]
    plans = [Product(merchant_id=merchant.id, sku=f"{tag}-P{i}", name=f"{tag} plan {i}",
                     unit_price_minor=2000 + i, currency=merchant.currency, interval="month",
                     in_cart=True)
             for i in range(2)]
    db.session.add_all(goods + plans)
    db.session.flush()
    made = []
    for i in range(n):
        invoice = build_invoice(merchant, customer, [(goods[i], 1), (goods[(i + 1) % n], 2),
                                                     (goods[(i + 2) % n], 3)],
                                number=f"{tag}-INV-{i}", issue_date=today,
                                due_date=today + timedelta(days=i - n // 2))
        made.append(invoice)
    db.session.flush()
    for i in range(0, n - 1, 2):  # a payment over two invoices, paid off
        payment = Payment(merchant_id=merchant.id, customer_id=customer.id,
                          amount_minor=made[i].total_minor + made[i + 1].total_minor,
                          currency=merchant.currency, status="succeeded", method="card",
                          method_label=f"Visa {tag} {i}", number=_receipt_number(merchant),
                          reference=f"{tag}-ref-{i}", idempotency_key=uuid.uuid4().hex)
        for invoice in made[i:i + 2]:
            payment.allocations.append(PaymentAllocation(
                merchant_id=merchant.id, invoice_id=invoice.id,
                amount_minor=invoice.total_minor))
            invoice.balance_minor, invoice.status = 0, "paid"
        db.session.add(payment)
        db.session.flush()
        db.session.add(Refund(merchant_id=merchant.id, customer_id=customer.id,
                              payment_id=payment.id, amount_minor=100,
                              currency=merchant.currency, reason=f"{tag} refund {i}",
                              status="succeeded", number=f"{tag}-REF-{i}",
                              idempotency_key=uuid.uuid4().hex))
        payment.refunded_minor = 100
        db.session.add(CreditNote(
            merchant_id=merchant.id, customer_id=customer.id, invoice_id=made[i].id,
            number=f"{tag}-CN-{i}", amount_minor=100, applied_minor=0, credit_minor=100,
            currency=merchant.currency, reason=f"{tag} credit {i}",
            idempotency_key=uuid.uuid4().hex, issue_date=today))
    for i, status in enumerate(("failed", "scheduled", "pending")):
        db.session.add(Payment(
            merchant_id=merchant.id, customer_id=customer.id, amount_minor=500 + i,
            currency=merchant.currency, status=status, method="card",
            failure_message="Declined" if status == "failed" else "",
            scheduled_for=today + timedelta(days=3) if status == "scheduled" else None,
            method_token="sandbox:succeeded:4242" if status == "scheduled" else "",
            plan={"invoice_ids": [made[-1].id], "kind": "card"},
            idempotency_key=uuid.uuid4().hex))
    for i in range(n):
        db.session.add(PaymentMethod(merchant_id=merchant.id, customer_id=customer.id,
                                     kind="card" if i % 2 else "ach",
                                     token=f"sandbox:succeeded:{tag}{i}",
                                     label=f"Card {tag} {i}", expires="10/37"))
    for i in range(n):  # orders through the service: number, lines, their first invoice
        order = orders.place(merchant, customer, [orders.Item(plans[i % 2].id, 1 + i % 3),
                                                  orders.Item(goods[i].id, 1)], today)
        db.session.flush()
        assert order.lines
    for i in range(n):
        proposal = proposals.create(merchant, customer,
                                    [orders.Item(plans[0].id, 1), orders.Item(goods[i].id, 2)],
                                    valid_until=today + timedelta(days=20),
                                    note=f"{tag} proposal {i}", today=today)
        if i % 3:
            proposals.send(merchant, proposal, today)
    for i in range(n):
        issue = issues.open_issue(merchant, customer, f"{tag} issue {i}", f"{tag} body {i}",
                                  [(f"{tag}-{i}.txt", b"log")])
        issues.customer_reply(merchant, customer, issue, f"{tag} more {i}",
                              [(f"{tag}-{i}b.txt", b"more")])
    cart = db.session.scalar(select(Cart).where(Cart.merchant_id == merchant.id,
                                                Cart.customer_id == customer.id))
    if cart is None:
        cart = carts.get_or_create(merchant, carts.new_key(), customer)
    for good in goods:
        carts.add(merchant, cart, good.id, 2)
    db.session.flush()
    if grow is None:
        return
    # the rows the walk opens, longer: their per-row reads would show here
    t = grow
    invoice = db.session.get(Invoice, t.invoice_ids[0])
    for i, good in enumerate(goods):
        line = InvoiceLine.for_product(merchant, good, 1, 10 + i)
        invoice.lines.append(line)
        invoice.total_minor += line.amount_minor
        invoice.balance_minor += line.amount_minor
    db.session.flush()
    for i in range(n):  # partly paid by several payments, each also paying another invoice
        payment = Payment(merchant_id=merchant.id, customer_id=customer.id, amount_minor=200,
                          currency=merchant.currency, status="succeeded", method="card",
                          method_label=f"Visa part {i}", number=_receipt_number(merchant),
                          idempotency_key=uuid.uuid4().hex)
        payment.allocations = [
            PaymentAllocation(merchant_id=merchant.id, invoice_id=invoice.id, amount_minor=100),
            PaymentAllocation(merchant_id=merchant.id, invoice_id=made[i].id, amount_minor=100)]
        invoice.balance_minor -= 100
        db.session.add(payment)
    receipt = db.session.get(Payment, t.payment_ids[0])  # the receipt names more invoices
    for i in range(n):
        receipt.allocations.append(PaymentAllocation(
            merchant_id=merchant.id, invoice_id=made[i].id, amount_minor=10))
        receipt.amount_minor += 10
    sub = db.session.get(Order, t.order_ids[0])
    for i, plan in enumerate(plans):
        line = OrderLine.for_product(merchant, plan, 1, 10 + i)
        line.recurring = True
        sub.lines.append(line)
    for i in range(n):  # its billed periods
        period = build_invoice(merchant, customer, [(plans[0], 1)], number=f"{tag}-SUB-{i}",
                               issue_date=today, due_date=today)
        period.order_id = sub.id
        period.period_start = today - timedelta(days=31 * (i + 1))
        period.period_end = today - timedelta(days=31 * i)
    proposal = db.session.get(Proposal, t.proposal_ids[0])
    for i, good in enumerate(goods):
        proposal.lines.append(ProposalLine.for_product(merchant, good, 1, 10 + i))
    issue = db.session.get(ServiceIssue, t.issue_ids[0])
    for i in range(n):
        issues.customer_reply(merchant, customer, issue, f"{tag} again {i}",
                              [(f"{tag}-again-{i}.txt", b"again"), (f"{tag}-{i}.png", PNG)])
    db.session.flush()


def test_every_widget_page_keeps_its_statement_count(app, make_merchant, count_queries):
    """B-2, #26: every widget GET page a signed-in customer can open, both faces, sends as many
    statements with a customer's long history (and other customers' beside it) as with a short
    one, and no more than its ceiling in CEILINGS."""
    from tests.tenant_support import build_tenant, sign_in_customer
    from widget_server.billing.models import Payment
    from widget_server.customers.models import Customer

    t = build_tenant(app, make_merchant, "acme", "Aardvarq")
    with app.app_context():  # its card payment numbered, as the service numbers one: a receipt
        db.session.get(Payment, t.payment_ids[0]).number = 1
        db.session.commit()
    client = sign_in_customer(app, t)
    pages = _widget_pages(app, t)
    few = _measure(count_queries, client, pages)

    with app.app_context():
        merchant = db.session.get(Merchant, t.merchant_id)
        _furnish(merchant, db.session.get(Customer, t.customer_id), 8, "mine", grow=t)
        other = Customer(merchant_id=merchant.id, first_name="Other", last_name="Customer",
                         username="other", custom_fields={})
        other.emails = [CustomerEmail(merchant_id=merchant.id, address="other@example.test")]
        db.session.add(other)
        db.session.flush()
        _furnish(merchant, other, 8, "theirs")
        db.session.commit()
    build_tenant(app, make_merchant, "bravo", "Xyzzyb")  # another merchant's rows beside
    many = _measure(count_queries, client, pages)

    report = {e: (few[e].count, many[e].count) for e, _ in pages}
    print("\nstatements per page (few, many rows), and its bytes (few, many):")
    for endpoint, (a, b) in report.items():
        print(f"  {endpoint:34} {a:3} {b:3} {few[endpoint].size:8} {many[endpoint].size:8}")
    names = {e.rpartition(".")[2] for e, _ in pages}
    missing = sorted(names - CEILINGS.keys())
    assert not missing, (f"new widget GET pages {missing}: give each its ceiling in CEILINGS "
                         "(its count is printed above), or a reason in NOT_MEASURED")
    assert not CEILINGS.keys() - names, "CEILINGS names pages that no longer exist"
    routes = {r.endpoint.rpartition(".")[2]: r.methods for r in app.url_map.iter_rules()
              if r.endpoint.partition(".")[0] in ("widget", "portal")}
    assert {n for n, m in routes.items() if "GET" not in m} == POST_ONLY
    assert NOT_MEASURED.keys() <= routes.keys()
    grew = {e: (few[e].count, many[e].count, many[e].statements)
            for e, _ in pages if few[e].count != many[e].count}
    assert not grew, {e: (a, b, "\n".join(st)) for e, (a, b, st) in grew.items()}
    over = {e: (many[e].count, CEILINGS[e.rpartition('.')[2]])
            for e, _ in pages if many[e].count > CEILINGS[e.rpartition(".")[2]]}
    assert not over, over
