"""The issues inbox in the admin (#23 item 2, W-9): filter, thread, reply, assign, close and
reopen; attachments only for this merchant's admins; each reply emails the other side through
the outbox and a real SMTP server (Issue Reply to the customer in their language, the customer's
message to the assigned admin or every admin who manages customers), each with its switch."""
import re

from sqlalchemy import select

from tests.conftest import csrf_from
from tests.issue_support import PDF, PNG, files, open_issue
from widget_server.core.extensions import db
from widget_server.customers.models import Customer
from widget_server.jobs import queue
from widget_server.notifications.types import EMAIL_TYPES, SWITCHABLE
from widget_server.support import services
from widget_server.support.models import CLOSED, OPEN, ServiceIssue, ServiceIssueAttachment
from widget_server.tenancy.models import AdminUser, Merchant


def _sign_in(app, email, password="owner-pass-123"):
    from tests.conftest import Browserish

    admin = Browserish(app.test_client())
    assert admin.login(email, password).status_code == 302
    return admin


def _issue_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(ServiceIssue.id))


def _deliver(app, smtp) -> dict[str, list]:
    """Run the outbox; {recipient: [messages]}."""
    with app.app_context():
        queue.run_due()
    found = {}
    for rcpt, message in smtp.messages:
        found.setdefault(rcpt[0], []).append(message)
    smtp.messages.clear()
    return found


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()


def _reply(admin, issue_id, body, *, close=False, attachments=()):
    page = admin.client.get(f"/admin/issues/{issue_id}").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "body": body, "attachments": files(*attachments)}
    if close:
        data["close"] = "y"
    return admin.client.post(f"/admin/issues/{issue_id}/reply", data=data,
                             content_type="multipart/form-data")


def test_both_emails_are_declared_once_with_a_switch():
    for key in ("issue_reply", "issue_customer_message"):
        assert EMAIL_TYPES[key] in SWITCHABLE and EMAIL_TYPES[key].switch.default is True
    from widget_server.notifications.templates import TOKEN_LABELS

    for key in ("issue_reply", "issue_customer_message"):
        assert set(EMAIL_TYPES[key].tokens) <= TOKEN_LABELS.keys()


def test_the_inbox_answers_assigns_closes_and_reopens(app, helpdesk, make_admin):
    open_issue(helpdesk, attachments=[("scan.pdf", PDF, "application/pdf")])
    issue_id = _issue_id(app)
    make_admin(helpdesk.merchant_id, "sam@acme.test", role="staff")
    owner = _sign_in(app, "owner@acme.test")
    inbox = owner.client.get("/admin/issues").get_data(as_text=True)
    assert "ISS-00001" in inbox and "Printer jammed" in inbox and "awaiting reply" in inbox
    assert 'href="/admin/issues"' in inbox  # in the menu
    thread = owner.client.get(f"/admin/issues/{issue_id}").get_data(as_text=True)
    assert "It says E42." in thread and "scan.pdf" in thread
    answer = _reply(owner, issue_id, "Please switch it off and on.",
                    attachments=[("steps.png", PNG, "image/png")])
    assert answer.status_code == 302
    with app.app_context():
        issue = db.session.get(ServiceIssue, issue_id)
        owner_id = db.session.scalar(select(AdminUser.id).where(
            AdminUser.email == "owner@acme.test"))
        sam_id = db.session.scalar(select(AdminUser.id).where(AdminUser.email == "sam@acme.test"))
        assert issue.assigned_admin_id == owner_id and issue.last_author == "admin"
    # the customer sees the answer and its attachment
    page = helpdesk.client.get(f"{helpdesk.base}/issues/{issue_id}").get_data(as_text=True)
    assert "Please switch it off and on." in page and "steps.png" in page
    assert ">Answered<" in helpdesk.client.get(f"{helpdesk.base}/issues").get_data(as_text=True)
    # assign to the staff member, then close and reopen
    page = owner.client.get(f"/admin/issues/{issue_id}").get_data(as_text=True)
    owner.client.post(f"/admin/issues/{issue_id}/assign",
                      data={"csrf_token": csrf_from(page), "assignee": str(sam_id)})
    owner.client.post(f"/admin/issues/{issue_id}/close", data={"csrf_token": csrf_from(page)})
    with app.app_context():
        issue = db.session.get(ServiceIssue, issue_id)
        assert issue.assigned_admin_id == sam_id and issue.status == CLOSED
    assert ">ISS-00001</a>" not in owner.client.get("/admin/issues").get_data(as_text=True)
    closed = owner.client.get("/admin/issues?status=closed").get_data(as_text=True)
    assert ">ISS-00001</a>" in closed
    owner.client.post(f"/admin/issues/{issue_id}/reopen", data={"csrf_token": csrf_from(page)})
    with app.app_context():
        assert db.session.get(ServiceIssue, issue_id).status == OPEN
    # assigning to anyone but this merchant's admins who manage customers is refused
    refused = owner.client.post(f"/admin/issues/{issue_id}/assign",
                                data={"csrf_token": csrf_from(page), "assignee": "999999"},
                                follow_redirects=True)
    assert "Choose one of your admins who manage customers." in refused.get_data(as_text=True)
    # the customer page links to their issues
    customer = owner.client.get(f"/admin/customers/{helpdesk.customer_id}").get_data(as_text=True)
    assert f'/admin/issues?customer={helpdesk.customer_id}&amp;status=all' in customer


def test_a_reply_can_close_and_a_blank_one_is_refused(app, helpdesk):
    open_issue(helpdesk)
    issue_id = _issue_id(app)
    owner = _sign_in(app, "owner@acme.test")
    blank = _reply(owner, issue_id, "   ")
    assert blank.status_code == 400 and 'id="body-error"' in blank.get_data(as_text=True)
    forged = _reply(owner, issue_id, "See attached", attachments=[
        ("report.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\xff\xff", "application/pdf")])
    assert forged.status_code == 400
    assert re.search(r'id="attachments-error">report\.pdf is not a PDF',
                     forged.get_data(as_text=True))
    assert _reply(owner, issue_id, "Fixed on our side.", close=True).status_code == 302
    with app.app_context():
        assert db.session.get(ServiceIssue, issue_id).status == CLOSED


def test_another_merchants_admin_finds_nothing(app, helpdesk, make_merchant):
    open_issue(helpdesk, attachments=[("scan.pdf", PDF, "application/pdf")])
    issue_id = _issue_id(app)
    with app.app_context():
        attachment_id = db.session.scalar(select(ServiceIssueAttachment.id))
    make_merchant("globex")
    stranger = _sign_in(app, "owner@globex.test")
    assert stranger.client.get(f"/admin/issues/{issue_id}").status_code == 404
    assert stranger.client.get(f"/admin/issues/attachments/{attachment_id}").status_code == 404
    page = stranger.client.get("/admin/issues").get_data(as_text=True)
    assert "ISS-00001" not in page
    answer = stranger.client.post(f"/admin/issues/{issue_id}/close",
                                  data={"csrf_token": csrf_from(page)})
    assert answer.status_code == 404
    # this merchant's admin downloads it, as a download
    owner = _sign_in(app, "owner@acme.test")
    got = owner.client.get(f"/admin/issues/attachments/{attachment_id}")
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["Content-Disposition"] == 'attachment; filename="scan.pdf"'
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Type"] == "application/pdf"
    assert "sandbox" in got.headers["Content-Security-Policy"]


def test_an_admin_without_manage_customers_is_refused(app, helpdesk, make_admin):
    open_issue(helpdesk)
    with app.app_context():
        merchant = db.session.get(Merchant, helpdesk.merchant_id)
        from widget_server.tenancy import admins

        admins.create_admin(merchant, "viewer@acme.test", "viewer-pass-123", "nobody")
        db.session.commit()
    viewer = _sign_in(app, "viewer@acme.test", "viewer-pass-123")
    assert viewer.client.get("/admin/issues").status_code == 403
    assert viewer.client.get(f"/admin/issues/{_issue_id(app)}").status_code == 403


def test_each_reply_emails_the_other_side(app, helpdesk, make_admin, smtp):
    make_admin(helpdesk.merchant_id, "sam@acme.test", role="staff")
    make_admin(helpdesk.merchant_id, "ada@acme.test", role="admin")
    open_issue(helpdesk, subject="Wrong invoice", body="INV-7 bills twice.")
    sent = _deliver(app, smtp)
    # unassigned: every admin who manages customers hears of it, the customer does not
    assert sorted(sent) == ["ada@acme.test", "owner@acme.test", "sam@acme.test"]
    message = sent["sam@acme.test"][0]
    assert message["Subject"] == "Jane Doe wrote in issue ISS-00001: Wrong invoice"
    issue_id = _issue_id(app)
    assert "INV-7 bills twice." in _text(message)
    assert f"https://portal.example.test/admin/issues/{issue_id}" in _text(message)
    # the admin answers: the customer is emailed at each address, in their language
    with app.app_context():
        merchant = db.session.get(Merchant, helpdesk.merchant_id)
        merchant.config = {**merchant.config, "portal": {"languages": ["en", "de"]}}
        db.session.get(Customer, helpdesk.customer_id).language = "de"
        db.session.commit()
    sam = _sign_in(app, "sam@acme.test", "staff-pass-123")
    assert _reply(sam, issue_id, "Corrected: INV-7 is voided.").status_code == 302
    sent = _deliver(app, smtp)
    assert sorted(sent) == ["ap@example.test", "jane@example.test"]
    reply = sent["jane@example.test"][0]
    assert reply["Subject"] == "Antwort auf Ihre Anfrage ISS-00001 bei Acme"
    text = _text(reply)
    assert "Corrected: INV-7 is voided." in text
    assert f"https://portal.example.test/p/acme/issues/{issue_id}" in text
    # the customer writes again: now only the assigned admin (who answered) hears of it
    page = helpdesk.client.get(f"{helpdesk.base}/issues/{issue_id}").get_data(as_text=True)
    helpdesk.client.post(f"{helpdesk.base}/issues/{issue_id}",
                         data={"csrf_token": csrf_from(page), "body": "Thanks!"})
    assert sorted(_deliver(app, smtp)) == ["sam@acme.test"]


def test_each_switch_stops_its_email(app, helpdesk, smtp):
    with app.app_context():
        merchant = db.session.get(Merchant, helpdesk.merchant_id)
        merchant.config = {**merchant.config, "notifications": {
            "issue_reply": False, "issue_customer_message": False}}
        db.session.commit()
    open_issue(helpdesk)
    with app.app_context():
        merchant = db.session.get(Merchant, helpdesk.merchant_id)
        owner = db.session.scalar(select(AdminUser))
        services.admin_reply(merchant, owner, db.session.scalar(select(ServiceIssue)), "Hi")
        db.session.commit()
    assert _deliver(app, smtp) == {}


def test_an_attachment_above_the_apps_body_limit_goes_through_only_when_signed_in(app,
                                                                                  helpdesk):
    """3 MB is above the app's 2 MB for every other request: signed in, the reply takes it;
    a visitor's request of that size is refused before anything reads it."""
    open_issue(helpdesk)
    issue_id = _issue_id(app)
    owner = _sign_in(app, "owner@acme.test")
    big = PNG + b"\x00" * (3 * 1024 * 1024)
    assert _reply(owner, issue_id, "Screenshot", attachments=[("big.png", big, "image/png")]
                  ).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(ServiceIssueAttachment.size)) == len(big)
    stranger = app.test_client().post(f"/admin/issues/{issue_id}/reply", data={
        "body": "x", "attachments": files(("big.png", big, "image/png"))},
        content_type="multipart/form-data")
    assert stranger.status_code == 413
    visitor = app.test_client().post(f"{helpdesk.base}/issues/new", data={
        "subject": "x", "body": "x", "attachments": files(("big.png", big, "image/png"))},
        content_type="multipart/form-data")
    assert visitor.status_code == 413
