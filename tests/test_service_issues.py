"""Service issues in the widget (#23 item 2, W-9, P-7): Show Issues adds the section and its
routes, the customer opens an issue with attachments and follows its thread; attachments are
judged by their bytes, limited in size and number, and served only to their customer, as
downloads that no browser renders."""
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_from, widget_login
from tests.issue_support import HTML, PDF, PNG, files, open_issue, show_issues
from widget_server.core.extensions import db
from widget_server.support import services
from widget_server.support.models import CLOSED, OPEN, ServiceIssue, ServiceIssueAttachment
from widget_server.tenancy.models import Merchant


def _issue(app, number="ISS-00001") -> ServiceIssue:
    with app.app_context():
        issue = db.session.scalar(select(ServiceIssue).where(ServiceIssue.number == number))
        db.session.expunge(issue)
        return issue


def _attachment_ids(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(ServiceIssueAttachment.id)
                                       .order_by(ServiceIssueAttachment.id)))


def test_show_issues_adds_the_section_and_off_refuses_it(app, helpdesk):
    page = helpdesk.client.get(f"{helpdesk.base}/issues")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'aria-current="page">Issues</a>' in html and "You have no requests" in html
    show_issues(app, helpdesk.profile_id, on=False)
    assert helpdesk.client.get(f"{helpdesk.base}/issues").status_code == 403
    assert helpdesk.client.get(f"{helpdesk.base}/issues/new").status_code == 403
    overview = helpdesk.client.get(f"{helpdesk.base}/account").get_data(as_text=True)
    assert ">Issues<" not in overview


def test_opening_an_issue_with_a_pdf_shows_its_thread(app, helpdesk):
    answer = open_issue(helpdesk, attachments=[("invoice scan.pdf", PDF, "application/pdf")])
    assert answer.status_code == 302, answer.get_data(as_text=True)
    issue = _issue(app)
    assert answer.location.endswith(f"/issues/{issue.id}")
    assert issue.status == OPEN and issue.subject == "Printer jammed"
    page = helpdesk.client.get(answer.location).get_data(as_text=True)
    assert "ISS-00001: Printer jammed" in page and "It says E42." in page
    assert "Your request ISS-00001 is sent." in page
    assert "invoice scan.pdf" in page
    listing = helpdesk.client.get(f"{helpdesk.base}/issues").get_data(as_text=True)
    assert "ISS-00001" in listing and "Printer jammed" in listing and ">Open<" in listing


def test_the_download_is_an_attachment_never_a_page(app, helpdesk):
    open_issue(helpdesk, attachments=[("C:\\evil\\..\\pass;wd<b>.pdf", PDF, "text/html"),
                                      ("notes.html", "Grüße\nline two".encode(), "text/html")])
    pdf_id, text_id = _attachment_ids(app)
    got = helpdesk.client.get(f"{helpdesk.base}/issues/attachments/{pdf_id}")
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["Content-Type"] == "application/pdf"
    assert re.fullmatch(r'attachment; filename="[\w.-]*pass_wd_b_\.pdf"',
                        got.headers["Content-Disposition"], re.ASCII)
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in got.headers["Content-Security-Policy"]
    text = helpdesk.client.get(f"{helpdesk.base}/issues/attachments/{text_id}")
    assert text.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert text.headers["Content-Disposition"] == 'attachment; filename="notes.html.txt"'


def test_a_forged_type_is_refused_next_to_the_field(app, helpdesk):
    for name, data in (("statement.pdf", HTML.replace(b"<!doctype", b"\x00<!doctype")),
                       ("photo.png", b"GIF89a\x01\x00\x01\x00\x80\xff\x00"),
                       ("logo.svg", b"\xff\xfe<\x00s\x00v\x00g\x00")):
        answer = open_issue(helpdesk, attachments=[(name, data, "application/pdf")])
        assert answer.status_code == 400
        html = answer.get_data(as_text=True)
        assert re.search(r'id="attachments-error">[^<]*is not a PDF, PNG, JPEG or plain text '
                         r'file\.', html), html
    with app.app_context():
        assert db.session.scalar(select(func.count(ServiceIssue.id))) == 0


def test_html_is_text_at_most_and_never_served_as_html(app, helpdesk):
    """HTML is valid UTF-8: kept as plain text under a .txt name, downloaded, never rendered."""
    open_issue(helpdesk, attachments=[("statement.pdf", HTML, "application/pdf")])
    (only,) = _attachment_ids(app)
    got = helpdesk.client.get(f"{helpdesk.base}/issues/attachments/{only}")
    assert got.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert got.headers["Content-Disposition"] == 'attachment; filename="statement.pdf.txt"'


def test_an_over_size_file_is_refused_with_a_clear_message(app, helpdesk):
    big = PDF + b"0" * (5 * 1024 * 1024)  # above the app's 2 MB body limit too
    answer = open_issue(helpdesk, attachments=[("big.pdf", big, "application/pdf")])
    assert answer.status_code == 400
    assert re.search(r'id="attachments-error">big\.pdf is 5\.1 MB; each file may be at most '
                     r'5 MB\.<', answer.get_data(as_text=True))
    many = [(f"p{i}.png", PNG, "image/png") for i in range(4)]
    answer = open_issue(helpdesk, attachments=many)
    assert "Attach at most 3 files." in answer.get_data(as_text=True)


def test_another_customers_attachment_is_not_found(app, helpdesk, portal):
    open_issue(helpdesk, attachments=[("a.png", PNG, "image/png")])
    (theirs,) = _attachment_ids(app)
    with app.app_context():
        from widget_server.core.passwords import hash_password
        from widget_server.customers.models import Customer, CustomerEmail

        other = Customer(merchant_id=helpdesk.merchant_id, first_name="Max", last_name="Other",
                         username="max", password_hash=hash_password("other-pass-123"),
                         custom_fields={})
        other.emails = [CustomerEmail(merchant_id=helpdesk.merchant_id,
                                      address="max@example.test", position=0)]
        db.session.add(other)
        db.session.commit()
    client = app.test_client()
    widget_login(client, helpdesk.base, "max", "other-pass-123")
    assert client.get(f"{helpdesk.base}/issues/attachments/{theirs}").status_code == 404
    assert client.get(f"{helpdesk.base}/issues/{_issue(app).id}").status_code == 404
    # and another merchant's customer, through their own merchant's portal
    elsewhere = portal("globex", username="gina")
    show_issues(app, elsewhere.profile_id)
    client = app.test_client()
    widget_login(client, elsewhere.base, "gina", elsewhere.password)
    assert client.get(f"{elsewhere.base}/issues/attachments/{theirs}").status_code == 404


def test_every_form_needs_its_csrf_token(app, helpdesk):
    """Refused (the widget's answer to a lost session: try again), and nothing written."""
    answer = helpdesk.client.post(f"{helpdesk.base}/issues/new", data={
        "subject": "No token", "body": "Forged by another site"})
    assert answer.status_code == 400  # no token in this session yet: the lost-session page
    open_issue(helpdesk)
    url = f"{helpdesk.base}/issues/{_issue(app).id}"
    answer = helpdesk.client.post(url, data={"body": "Forged"})
    assert answer.status_code == 302 and answer.location.endswith("/account")
    with app.app_context():
        assert db.session.scalar(select(func.count(ServiceIssue.id))) == 1
    assert "Forged" not in helpdesk.client.get(url).get_data(as_text=True)


def test_writing_in_a_closed_issue_reopens_it(app, helpdesk):
    open_issue(helpdesk)
    issue = _issue(app)
    with app.app_context():
        merchant = db.session.get(Merchant, helpdesk.merchant_id)
        services.close_issue(merchant, db.session.get(ServiceIssue, issue.id))
        db.session.commit()
    url = f"{helpdesk.base}/issues/{issue.id}"
    page = helpdesk.client.get(url).get_data(as_text=True)
    assert "This request is closed. Writing here opens it again." in page
    answer = helpdesk.client.post(url, data={"csrf_token": csrf_from(page),
                                             "body": "Still broken, sorry.",
                                             "attachments": files()})
    assert answer.status_code == 302
    assert _issue(app).status == OPEN
    thread = helpdesk.client.get(url).get_data(as_text=True)
    assert "Still broken, sorry." in thread and "Your message is sent." in thread


def test_a_blank_message_is_refused_next_to_its_field(app, helpdesk):
    answer = open_issue(helpdesk, subject="   ", body="  ")
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert 'id="subject-error"' in html and 'id="body-error"' in html
    assert CLOSED not in html


def test_pages_cost_the_same_for_a_long_thread_and_many_issues(app, helpdesk, count_queries):
    """B-2: the list, an issue's page and the admin's inbox and issue page read a constant
    number of statements however many issues, messages and attachments there are."""
    from tests.conftest import Browserish
    from widget_server.customers.models import Customer

    open_issue(helpdesk, attachments=[("a.png", PNG, "image/png")])
    issue_id = _issue(app).id
    admin = Browserish(app.test_client())
    admin.login("owner@acme.test", "owner-pass-123")
    pages = ((helpdesk.client, f"{helpdesk.base}/issues"),
             (helpdesk.client, f"{helpdesk.base}/issues/{issue_id}"),
             (admin.client, "/admin/issues"), (admin.client, f"/admin/issues/{issue_id}"))

    def counts():
        result = []
        for client, url in pages:
            with count_queries() as counter:
                assert client.get(url).status_code == 200
            result.append(counter.count)
        return result

    few = counts()
    with app.app_context():
        merchant = db.session.get(Merchant, helpdesk.merchant_id)
        customer = db.session.get(Customer, helpdesk.customer_id)
        issue = db.session.get(ServiceIssue, issue_id)
        for n in range(6):
            services.customer_reply(merchant, customer, issue, f"More {n}",
                                    [(f"{n}.png", PNG), (f"{n}.txt", b"log")])
            services.open_issue(merchant, customer, f"Other {n}", "Text")
        db.session.commit()
    assert counts() == few


@pytest.mark.parametrize(("name", "data", "found"), [
    ("scan.bin", PDF, ("application/pdf", "scan.bin.pdf")),
    ("photo.jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF", ("image/jpeg", "photo.jpg")),
    ("pic", PNG, ("image/png", "pic.png")),
    ("notes.md", "Straße, café, 東京\n".encode(), ("text/plain; charset=utf-8", "notes.md.txt")),
    ("latin1.txt", "Straße".encode("latin-1"), None),  # not UTF-8
    ("utf16.txt", "text".encode("utf-16"), None),  # NUL bytes
    ("page.pdf", b"\x00" + HTML, None),
    ("prog.exe", b"MZ\x90\x00\x03\x00", None),
])
def test_the_type_comes_from_the_bytes_alone(app, name, data, found):
    from widget_server.core.domain import DomainError
    from widget_server.support import attachments

    with app.test_request_context():
        if found is None:
            with pytest.raises(DomainError) as refused:
                attachments.check([(name, data)])
            assert refused.value.field == "attachments"
        else:
            (upload,) = attachments.check([(name, data)])
            assert (upload.content_type, upload.filename) == found
        with pytest.raises(DomainError, match="empty"):
            attachments.check([("empty.pdf", b"")])


def test_a_customer_cannot_flood_the_merchants_inboxes(app, helpdesk):
    """Each message emails the admins: ten new issues an hour per customer, then 429."""
    from widget_server.core.extensions import limiter

    limiter.enabled = True
    limiter.reset()
    try:
        codes = [open_issue(helpdesk, subject=f"Issue {n}").status_code for n in range(11)]
    finally:
        limiter.reset()
        limiter.enabled = False
    assert codes == [302] * 10 + [429]
    with app.app_context():
        assert db.session.scalar(select(func.count(ServiceIssue.id))) == 10


def test_an_answered_issue_reads_answered_on_its_page_as_in_the_list(app, helpdesk):
    """#23 browser pass: the list said "Answered", the issue's page "Open"."""
    from widget_server.support.models import ServiceIssue
    from widget_server.tenancy.models import AdminUser, Merchant

    opened = open_issue(helpdesk)
    assert opened.status_code == 302
    with app.app_context():
        merchant = db.session.get(Merchant, helpdesk.merchant_id)
        admin = db.session.scalar(select(AdminUser).where(AdminUser.merchant_id == merchant.id))
        issue = db.session.scalar(select(ServiceIssue))
        services.admin_reply(merchant, admin, issue, "Try turning it off and on.")
        db.session.commit()
        issue_id = issue.id
    page = helpdesk.client.get(f"{helpdesk.base}/issues/{issue_id}").get_data(as_text=True)
    assert '<p id="issue-status"><span class="badge">Answered</span></p>' in page
    listing = helpdesk.client.get(f"{helpdesk.base}/issues").get_data(as_text=True)
    assert '<span class="badge">Answered</span>' in listing
