"""Service issues in real Chromium inside the cross-site iframe (#23 item 2): the host page on
127.0.0.1 embeds the widget from localhost; the customer opens an issue with an attachment (the
host page hears issue-opened), an admin answers, and the customer sees the answer."""
import pytest
from sqlalchemy import select

from tests.issue_support import PDF, show_issues
from tests.test_browser_embed import _events_of, _sign_in, shop  # noqa: F401
from widget_server.core.extensions import db
from widget_server.support import services
from widget_server.support.models import ServiceIssue
from widget_server.tenancy.models import AdminUser, Merchant

pytestmark = pytest.mark.browser


def test_customer_opens_an_issue_and_reads_the_admins_answer(app, shop):  # noqa: F811
    show_issues(app, shop.profile_id)
    page = shop.open_host()
    frame = page.frame_locator("#box-0 iframe")
    _sign_in(frame, shop.username, shop.password)
    frame.get_by_role("heading", name="Hello, Jane").wait_for()

    frame.get_by_role("link", name="Issues", exact=True).click()
    frame.get_by_role("heading", name="Issues").wait_for()
    frame.get_by_role("link", name="New request").click()
    frame.get_by_label("Subject").fill("Card declined twice")
    frame.get_by_label("Message").fill("My card was declined.\n\nIt works elsewhere.")
    frame.get_by_label("Attachments (optional)").set_input_files(
        files=[{"name": "statement.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    frame.get_by_role("button", name="Send request").click()
    frame.get_by_role("heading", name="ISS-00001: Card declined twice").wait_for()
    page.wait_for_function("[...document.querySelectorAll('#log li')]"
                           ".some(li => li.textContent.startsWith('box-0 issue-opened '))")
    assert _events_of(page, "box-0", "issue-opened")[-1] == {"issue": "ISS-00001"}
    assert "statement.pdf" in frame.locator("#thread").inner_text()
    # the attachment downloads with the frame's (partitioned) session: a `download` link
    # was fetched without it and saved the sign-in page as login.html (#23 browser pass)
    with page.expect_download() as got:
        frame.get_by_role("link", name="statement.pdf").click()
    assert got.value.suggested_filename == "statement.pdf"
    with open(got.value.path(), "rb") as saved:
        assert saved.read() == PDF

    with app.app_context():  # the admin answers (the admin's own pages call the same service)
        merchant = db.session.get(Merchant, shop.merchant_id)
        admin = db.session.scalar(select(AdminUser).where(AdminUser.merchant_id == merchant.id))
        issue = db.session.scalar(select(ServiceIssue))
        services.admin_reply(merchant, admin, issue, "We refunded the fee. Please try again.")
        db.session.commit()

    frame.get_by_role("link", name="Issues", exact=True).click()
    frame.get_by_role("cell", name="Answered").wait_for()
    frame.get_by_role("link", name="ISS-00001").click()
    frame.get_by_text("We refunded the fee. Please try again.").wait_for()
    frame.get_by_label("Message").fill("Thanks, it works now.")
    frame.get_by_role("button", name="Send message").click()
    frame.get_by_text("Your message is sent.").wait_for()
    assert "Thanks, it works now." in frame.locator("#thread").inner_text()
    page.wait_for_function("[...document.querySelectorAll('#log li')]"
                           ".some(li => li.textContent.startsWith('box-0 issue-replied '))")
    assert _events_of(page, "box-0", "issue-replied")[-1] == {"issue": "ISS-00001"}


def test_a_refused_attachment_is_said_next_to_the_field_and_passes_axe(app, page, live_server,
                                                                         portal):
    from tests.test_browser_accessibility import _serious

    p = portal()
    show_issues(app, p.profile_id)
    page.goto(f"{live_server}{p.standalone}/login")
    page.get_by_label("Username or email").fill(p.username)
    page.get_by_label("Password").fill(p.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Hello, Jane").wait_for()
    page.goto(f"{live_server}{p.standalone}/issues/new")
    page.get_by_label("Subject").fill("Forged")
    page.get_by_label("Message").fill("See the file.")
    page.get_by_label("Attachments (optional)").set_input_files(files=[{
        "name": "invoice.pdf", "mimeType": "application/pdf",
        "buffer": b"\x00<html><script>alert(1)</script></html>"}])
    page.get_by_role("button", name="Send request").click()
    error = page.locator("#attachments-error")
    error.wait_for()
    assert error.inner_text() == "invoice.pdf is not a PDF, PNG, JPEG or plain text file."
    described = page.get_by_label("Attachments (optional)").get_attribute("aria-describedby")
    assert "attachments-error" in described
    assert _serious(page) == []


def test_the_admin_answers_assigns_and_closes_in_the_browser_axe_clean(app, page, live_server,
                                                                       helpdesk, make_admin):
    from tests.issue_support import open_issue
    from tests.test_browser_accessibility import _serious

    make_admin(helpdesk.merchant_id, "sam@acme.test", role="staff")
    open_issue(helpdesk, attachments=[("scan.pdf", PDF, "application/pdf")])
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill("owner-pass-123")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Issues", exact=True).first.click()
    page.get_by_role("heading", name="Issues").wait_for()
    assert "awaiting reply" in page.locator("#issues").inner_text()
    assert _serious(page) == []
    page.get_by_role("link", name="ISS-00001").click()
    page.get_by_role("heading", name="Issue ISS-00001: Printer jammed").wait_for()
    assert _serious(page) == []
    page.get_by_role("button", name="Send reply").click()  # nothing written
    page.locator("#body-error").wait_for()
    assert _serious(page) == []  # the error state too
    page.get_by_label("Message to the customer").fill("Try the rear door.")
    page.get_by_role("button", name="Send reply").click()
    page.get_by_text("Reply sent: the customer is emailed").wait_for()
    page.get_by_label("Assigned to").select_option(label="sam@acme.test")
    page.get_by_role("button", name="Assign").click()
    page.get_by_text("Assignment saved.").wait_for()
    page.get_by_role("button", name="Close issue").click()
    page.get_by_role("button", name="Reopen issue").wait_for()
    assert page.locator("#issue-status").inner_text() == "Closed"  # in words (#24 item 5)
    with app.app_context():
        issue = db.session.scalar(select(ServiceIssue))
        sam = db.session.scalar(select(AdminUser).where(AdminUser.email == "sam@acme.test"))
        assert (issue.status, issue.assigned_admin_id) == ("closed", sam.id)
    thread = helpdesk.client.get(f"{helpdesk.base}/issues/{issue.id}").get_data(as_text=True)
    assert "Try the rear door." in thread and "Writing here opens it again." in thread


def test_an_emails_link_opens_the_issue_in_the_embedded_widget(app, shop):  # noqa: F811
    """#23 browser pass: the Issue Reply email's link (#myaccount=/issues/N on the merchant's
    page) opened the overview; it opens the issue, after the sign-in it asks for first."""
    show_issues(app, shop.profile_id)
    with app.app_context():
        from widget_server.customers.models import Customer

        merchant = db.session.get(Merchant, shop.merchant_id)
        issue = services.open_issue(merchant, db.session.get(Customer, shop.customer_id),
                                    "Invoice address", "Please change it.", [])
        db.session.commit()
        issue_id = issue.id
    page = shop.open_host()
    page.goto(f"{page.url}#myaccount=/issues/{issue_id}")
    page.reload()
    frame = page.frame_locator("#box-0 iframe")
    _sign_in(frame, shop.username, shop.password)
    frame.get_by_role("heading", name="ISS-00001: Invoice address").wait_for()
    assert "/issues/" in page.locator("#box-0 iframe").get_attribute("src")
