"""The merchant's locale and time zone everywhere in the admin (issue #24 item 5): a de_DE
merchant in Europe/Berlin reads every list and detail page with dates as 29.11.2026, times in
Berlin (never "UTC", never ISO 2026-11-29) and statuses in words ("Overdue", "Succeeded",
"Open"), never a stored lower-case value."""
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.issue_support import add_issue
from tests.order_support import add_order
from tests.proposal_support import add_proposal
from widget_server.billing.models import Invoice, Payment
from widget_server.core.extensions import db
from widget_server.customers.models import Customer
from widget_server.notifications.models import EmailMessage
from widget_server.tenancy import audit
from widget_server.tenancy.models import AdminUser, Merchant

ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
RAW_STATUSES = ("draft", "issued", "paid", "void", "scheduled", "pending", "succeeded",
                "failed", "cancelled", "open", "closed", "sent", "accepted", "declined",
                "expired", "active", "ended", "queued", "kept")
# a stored status shown as an element's whole text: a table cell, a badge, an option
RAW_STATUS = re.compile(rf">\s*({'|'.join(RAW_STATUSES)})\s*<")


@pytest.fixture
def berlin(app, portal, browser_like):
    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        merchant.locale, merchant.timezone, merchant.currency = "de_DE", "Europe/Berlin", "EUR"
        db.session.commit()
    add_order(app, p)  # its first invoice issued (and its email queued)
    add_proposal(app, p)
    p.issue_id = add_issue(app, p)
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        today = merchant.today()
        customer = db.session.get(Customer, p.customer_id)
        late = datetime.now(UTC).replace(hour=23, minute=30, second=0, microsecond=0) \
            - timedelta(days=2)
        overdue = Invoice(merchant_id=merchant.id, customer_id=customer.id, number="INV-90001",
                          status="issued", currency="EUR", total_minor=5000, balance_minor=5000,
                          issue_date=today - timedelta(days=40),
                          due_date=today - timedelta(days=10), created_at=late)
        db.session.add_all([overdue, Payment(
            merchant_id=merchant.id, customer_id=customer.id, amount_minor=2500,
            currency="EUR", status="succeeded", number=7, reference="pi_1", created_at=late,
            method_label="Visa •••• 4242"), Payment(
            merchant_id=merchant.id, customer_id=customer.id, amount_minor=900,
            currency="EUR", status="scheduled", created_at=late, scheduled_for=today)])
        admin = db.session.scalar(select(AdminUser).where(AdminUser.merchant_id == merchant.id))
        audit.record(merchant, admin, "customer.merged", audit.subject_of("customer", customer.id),
                     merged_name="Jane D.", merged_id=99, admin_email=admin.email)
        db.session.commit()
        p.overdue_id = overdue.id
        p.late = late
        p.invoice_ids = db.session.scalars(select(Invoice.id)).all()
        p.email_ids = db.session.scalars(select(EmailMessage.id)).all()
    assert browser_like.login("owner@acme.test", "owner-pass-123").status_code == 302
    p.client = browser_like.client
    return p


def _visible(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _pages(p) -> list[str]:
    return ["/admin/", "/admin/invoices", "/admin/payments", "/admin/customers",
            f"/admin/customers/{p.customer_id}", "/admin/orders", f"/admin/orders/{p.order_id}",
            "/admin/proposals", f"/admin/proposals/{p.proposal_id}", "/admin/issues",
            f"/admin/issues/{p.issue_id}", "/admin/emails",
            *(f"/admin/invoices/{i}" for i in p.invoice_ids),
            *(f"/admin/emails/{i}" for i in p.email_ids)]


def test_every_admin_page_speaks_the_merchants_locale_and_time(app, berlin):
    client, seen = berlin.client, 0
    menu = re.search(r'<nav aria-label="Admin sections">(.*?)</nav>',
                     client.get("/admin/").get_data(as_text=True), re.S).group(1)
    sections = re.findall(r'href="([^"]+)"', menu)
    assert "/admin/payments" in sections and len(sections) >= 12
    for url in dict.fromkeys([*_pages(berlin), *sections]):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        text = _visible(html)
        assert not ISO_DATE.search(text), (url, ISO_DATE.search(text).group(0))
        assert not re.search(r"\d:\d\d\s*UTC", text), url  # a time "in UTC"
        raw = RAW_STATUS.search(html)
        assert raw is None, (url, raw and raw.group(0))
        seen += 1
    assert seen >= 20


def test_times_are_berlin_times_and_statuses_words(app, berlin):
    client = berlin.client
    local = berlin.late.astimezone(ZoneInfo("Europe/Berlin"))
    shown = local.strftime("%d.%m.%Y %H:%M")
    payments = client.get("/admin/payments").get_data(as_text=True)
    assert shown in payments and "Succeeded" in payments and "Scheduled" in payments
    customer = client.get(f"/admin/customers/{berlin.customer_id}").get_data(as_text=True)
    assert shown in customer and "PAY-00007" in customer  # the payment and the history entry
    assert "Overdue" in customer
    invoice = client.get(f"/admin/invoices/{berlin.overdue_id}").get_data(as_text=True)
    assert '<span class="badge">Overdue</span>' in invoice
    assert "50,00\xa0€" in invoice
    issue = client.get(f"/admin/issues/{berlin.issue_id}").get_data(as_text=True)
    assert '<span class="badge" id="issue-status">Open</span>' in issue
    proposals = client.get("/admin/proposals").get_data(as_text=True)
    assert "<td>Sent</td>" in proposals
