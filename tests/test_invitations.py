"""Customer portal invitations (I-1…I-4) through the test client and a real SMTP server."""
import re

from sqlalchemy import select

from tests.conftest import csrf_from
from widget_server.core.extensions import db
from widget_server.customers.models import Customer, CustomerEmail
from widget_server.jobs import queue
from widget_server.notifications.models import EmailMessage
from widget_server.tenancy.models import Merchant


def _contacts(app, merchant_id, names=("Anna Alpha", "Bert Beta")):
    ids = []
    with app.app_context():
        for name in names:
            first, last = name.split()
            customer = Customer(merchant_id=merchant_id, first_name=first, last_name=last,
                                custom_fields={})
            customer.emails = [CustomerEmail(merchant_id=merchant_id,
                                             address=f"{first.lower()}@example.test")]
            db.session.add(customer)
            db.session.flush()
            ids.append(customer.id)
        db.session.commit()
    return ids


def _invite(owner_client, ids, **data):
    query = "&".join(f"id={i}" for i in ids)
    page = owner_client.client.get(f"/admin/invitations?{query}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    subject = re.search(r'id="subject"[^>]*value="([^"]*)"', html).group(1)
    body = re.search(r'<textarea[^>]*id="body"[^>]*>\s*([^<]*)</textarea>', html).group(1)
    form = {"csrf_token": csrf_from(html), "id": [str(i) for i in ids], "send": "1",
            "subject": subject.replace("&#39;", "'"), "body": body.replace("&#39;", "'"),
            **data}
    return owner_client.client.post("/admin/invitations", data=form)


def test_one_email_per_contact_with_its_own_tokens_over_smtp(app, owner_client, smtp):
    ids = _contacts(app, owner_client.merchant_id)
    page = owner_client.client.get("/admin/customers").get_data(as_text=True)
    assert "Send Customer Portal Invite" in page and 'id="select-all"' in page
    response = _invite(owner_client, ids)
    assert response.status_code == 302
    with app.app_context():
        assert queue.run_due() == 2
    assert len(smtp.messages) == 2
    by_rcpt = {rcpt[0]: message for rcpt, message in smtp.messages}
    anna = by_rcpt["anna@example.test"].get_body(("plain",)).get_content()
    bert = by_rcpt["bert@example.test"].get_body(("plain",)).get_content()
    assert "Hello Anna Alpha" in anna and "Hello Bert Beta" in bert
    link_a = re.search(r"https://\S+/credentials/[\w-]+", anna).group(0)
    link_b = re.search(r"https://\S+/credentials/[\w-]+", bert).group(0)
    assert link_a != link_b
    assert by_rcpt["anna@example.test"]["Reply-To"] == "owner@acme.test"
    assert by_rcpt["anna@example.test"]["Subject"] == "Your Acme customer portal"


def test_edited_subject_and_removed_contact(app, owner_client):
    ids = _contacts(app, owner_client.merchant_id)
    query = "&".join(f"id={i}" for i in ids)
    html = owner_client.client.get(f"/admin/invitations?{query}").get_data(as_text=True)
    response = owner_client.client.post("/admin/invitations", data={
        "csrf_token": csrf_from(html), "id": [str(ids[1])], "send": "1",
        "subject": "Hi {{ contact_name }}", "body": "Join us: {{ portal_link }}"})
    assert response.status_code == 302
    with app.app_context():
        messages = db.session.scalars(select(EmailMessage)).all()
    assert [(m.to_address, m.subject) for m in messages] == [("bert@example.test",
                                                             "Hi Bert Beta")]


def test_injection_in_the_invitation_is_refused(app, owner_client):
    ids = _contacts(app, owner_client.merchant_id)
    response = _invite(owner_client, ids, body="{{ config }}")
    assert response.status_code == 400
    assert "is not allowed" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(EmailMessage)) is None


def test_invitations_need_the_permission_and_the_portal(app, owner_client, make_admin,
                                                        browser_like):
    ids = _contacts(app, owner_client.merchant_id)
    staff = app.test_client()
    from tests.conftest import Browserish

    Browserish(staff).login(make_admin(owner_client.merchant_id, "staff@acme.test"),
                            "staff-pass-123")
    assert "Send Customer Portal Invite" not in staff.get("/admin/customers").get_data(
        as_text=True)
    assert staff.get(f"/admin/invitations?id={ids[0]}").status_code == 403
    with app.app_context():
        merchant = db.session.get(Merchant, owner_client.merchant_id)
        merchant.config = {"portal": {"enable_customer_portal": False}}
        db.session.commit()
    assert "Send Customer Portal Invite" not in owner_client.client.get(
        "/admin/customers").get_data(as_text=True)
    response = owner_client.client.get(f"/admin/invitations?id={ids[0]}", follow_redirects=True)
    assert "invitations cannot be sent" in response.get_data(as_text=True)


def test_other_merchants_contacts_cannot_be_invited(app, owner_client, make_merchant):
    other_id, _ = make_merchant("globex")
    theirs = _contacts(app, other_id, names=("Eve Other",))
    page = owner_client.client.get(f"/admin/invitations?id={theirs[0]}").get_data(as_text=True)
    assert "Eve Other" not in page and "No contacts selected yet." in page


def test_invitation_link_signs_up_then_says_already_signed_up(app, owner_client, client):
    ids = _contacts(app, owner_client.merchant_id, names=("Anna Alpha",))
    _invite(owner_client, ids)
    with app.app_context():
        body = db.session.scalar(select(EmailMessage.text_body))
    path = re.search(r"https://[^/]+(/p/acme/credentials/[\w-]+)", body).group(1)
    from widget_server.profiles import services

    with app.app_context():
        services.create_profile(db.session.get(Merchant, owner_client.merchant_id), "Std", "std")
        db.session.commit()
    page = client.get(path).get_data(as_text=True)
    assert "Sign up for your account" in page
    response = client.post(path, data={"csrf_token": csrf_from(page), "username": "anna",
                                       "password": "anna-pass-123", "confirm": "anna-pass-123"})
    assert "You are signed up" in response.get_data(as_text=True)
    assert 'href="/p/acme/login"' in response.get_data(as_text=True)
    again = client.get(path, follow_redirects=True).get_data(as_text=True)
    assert "You have already signed up." in again


def test_portal_page_url_sends_links_to_the_merchants_site(app, owner_client):
    with app.app_context():
        merchant = db.session.get(Merchant, owner_client.merchant_id)
        merchant.config = {"embedding": {"portal_page_url": "https://shop.example.com/account"}}
        db.session.commit()
    ids = _contacts(app, owner_client.merchant_id, names=("Anna Alpha",))
    _invite(owner_client, ids)
    with app.app_context():
        body = db.session.scalar(select(EmailMessage.text_body))
    assert re.search(r"https://shop\.example\.com/account#myaccount=/credentials/[\w-]+", body)
