"""Helpers for the service issue tests (#23 item 2): a signed-in customer with Show Issues on,
and opening an issue through the widget's own form, files and all."""
import io

import pytest

from tests.conftest import csrf_from, widget_login
from widget_server.core.extensions import db
from widget_server.profiles.models import SelfServiceProfile

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def show_issues(app, profile_id, on=True):
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, profile_id)
        settings = dict(profile.settings or {})
        settings["global"] = {**settings.get("global", {}), "show_issues": on}
        profile.settings = settings
        db.session.commit()


@pytest.fixture
def helpdesk(app, portal):
    """A customer signed in (p.client) whose profile shows issues."""
    p = portal()
    show_issues(app, p.profile_id)
    p.client = app.test_client()
    widget_login(p.client, p.base, p.username, p.password)
    return p


def files(*items):
    """Form values for the attachments input: (name, bytes, declared type) each."""
    return [(io.BytesIO(data), name, declared) for name, data, declared in items]


def open_issue(p, subject="Printer jammed", body="It says E42.\n\nPlease help.",
               attachments=(), client=None):
    client = client or p.client
    page = client.get(f"{p.base}/issues/new")
    assert page.status_code == 200
    data = {"csrf_token": csrf_from(page.get_data(as_text=True)), "subject": subject,
            "body": body}
    if attachments:
        data["attachments"] = files(*attachments)
    return client.post(f"{p.base}/issues/new", data=data, content_type="multipart/form-data")


def add_issue(app, p) -> int:
    """Show Issues on and an answered issue of p's customer, with long words and an attachment
    with a long name (the pages' walks: axe, every width); returns its id."""
    from sqlalchemy import select

    from widget_server.customers.models import Customer
    from widget_server.support import services
    from widget_server.tenancy.models import AdminUser, Merchant

    show_issues(app, p.profile_id)
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        customer = db.session.get(Customer, p.customer_id)
        issue = services.open_issue(
            merchant, customer, "The quarterly statement shows a surprisingly unexpected total",
            "Hello,\n\nThe statement for the third quarter shows Donaudampfschifffahrtsgesellsch"
            "aftskapitänsmütze twice.\nCould you check?",
            [("a-rather-long-file-name-of-the-quarterly-statement-2026.pdf", PDF)])
        admin = db.session.scalar(select(AdminUser).where(AdminUser.merchant_id == merchant.id))
        services.admin_reply(merchant, admin, issue, "We corrected it; the new statement is "
                             "attached.", [("statement.png", PNG)])
        db.session.commit()
        return issue.id
