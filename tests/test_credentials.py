"""Customer credentials through the test client (C-3…C-5, C-9, C-12): every edge of the links."""
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import csrf_from, widget_login
from widget_server.core.database import utcnow
from widget_server.core.domain import DomainError
from widget_server.core.extensions import db
from widget_server.customers import credentials, enrolment
from widget_server.customers.models import CredentialToken, Customer, CustomerEmail
from widget_server.jobs import queue
from widget_server.notifications.models import EmailMessage
from widget_server.tenancy.models import Merchant

NEW_PASSWORD = "fresh-pass-2024"


@pytest.fixture
def newcomer(app, portal):
    """A portal, plus a customer without credentials (two Primary Email addresses)."""
    p = portal()
    with app.app_context():
        customer = Customer(merchant_id=p.merchant_id, first_name="Max", last_name="Muster",
                            custom_fields={})
        customer.emails = [CustomerEmail(merchant_id=p.merchant_id, address=a, position=i)
                           for i, a in enumerate(("max@example.test", "office@example.test"))]
        db.session.add(customer)
        db.session.commit()
        p.newcomer_id = customer.id
    return p


def _links(app, email_type, address=None):
    with app.app_context():
        stmt = select(EmailMessage).where(EmailMessage.email_type == email_type)
        if address:
            stmt = stmt.where(EmailMessage.to_address == address)
        return [re.search(r"https?://\S+/(?:credentials|reset)/[\w-]+", m.text_body).group(0)
                for m in db.session.scalars(stmt.order_by(EmailMessage.id))]


def _path(app, link):
    public = app.config["PUBLIC_URL"]
    assert link.startswith(public + "/p/")
    return link[len(public):]


def _send_create(app, p):
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        assert enrolment.send_create(merchant, db.session.get(Customer, p.newcomer_id))
        db.session.commit()
    return _path(app, _links(app, "credential_create", "max@example.test")[-1])


def _post(client, url, data):
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return client.post(url, data={"csrf_token": csrf_from(page.get_data(as_text=True)), **data})


def test_new_customer_in_the_admin_gets_the_create_email(app, owner_client):
    response = owner_client.submit("/admin/customers/new", {
        "first_name": "Nina", "last_name": "Neu",
        "primary_email": "nina@example.test, books@example.test"})
    assert response.status_code == 302
    links = _links(app, "credential_create")
    assert len(links) == 2 and links[0] == links[1]  # one link, every address
    assert links[0].startswith("https://portal.example.test/p/acme/credentials/")


def test_no_automatic_email_unless_both_credential_emails_are_on(app, owner_client):
    with app.app_context():
        merchant = db.session.get(Merchant, owner_client.merchant_id)
        merchant.config = {"notifications": {"password_reset": False}}
        db.session.commit()
    owner_client.submit("/admin/customers/new", {"first_name": "Nina", "last_name": "Neu",
                                                 "primary_email": "nina@example.test"})
    assert _links(app, "credential_create") == []


def test_create_link_sets_credentials_once(app, client, newcomer):
    url = _send_create(app, newcomer)
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200  # opening (a mail scanner) consumes nothing
    response = _post(client, url, {"username": "Max.M", "password": NEW_PASSWORD,
                                   "confirm": NEW_PASSWORD})
    assert response.status_code == 200
    assert "You are signed up" in response.get_data(as_text=True)
    again = client.get(url, follow_redirects=True)
    assert "You have already signed up. Please sign in." in again.get_data(as_text=True)
    fresh = app.test_client()
    assert widget_login(fresh, newcomer.standalone, "max.m", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"username": "mx", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, "username",
     "3 to 150 characters"),
    ({"username": "jane", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, "username",
     "is taken"),
    ({"username": "maxm", "password": "short1", "confirm": "short1"}, "password",
     "at least 10 characters"),
    ({"username": "maxm", "password": "onlyletters", "confirm": "onlyletters"}, "password",
     "a digit"),
    ({"username": "maxm", "password": NEW_PASSWORD, "confirm": "other-pass-2024"}, "confirm",
     "not the same"),
])
def test_bad_credentials_are_refused_next_to_the_field(app, client, newcomer, data, field,
                                                       message):
    url = _send_create(app, newcomer)
    response = _post(client, url, data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    assert "The password needs at least 10 characters, a letter, and a digit." in page  # C-9
    with app.app_context():
        assert db.session.get(Customer, newcomer.newcomer_id).password_hash is None
        assert db.session.scalar(select(CredentialToken.used_at)) is None



@pytest.mark.parametrize(("data", "errors"), [
    ({"username": "mx", "password": "short1", "confirm": "short1"},
     {"username": "3 to 150 characters", "password": "at least 10 characters"}),
    ({"username": "jane", "password": "onlyletters", "confirm": "other-pass-2024"},
     {"username": "is taken", "password": "a digit", "confirm": "not the same"}),
    ({"username": "", "password": "short1", "confirm": ""},
     {"username": "This field is required.", "password": "at least 10 characters",
      "confirm": "This field is required."}),
])
def test_sign_up_shows_every_error_next_to_its_field(app, client, newcomer, data, errors):
    """Issue #18 9e (C-9): the page showed only the first problem, one submit per mistake."""
    url = _send_create(app, newcomer)
    response = _post(client, url, data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for field, message in errors.items():
        found = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', page)
        assert found and message in found.group(1), (field, found and found.group(1))
    assert page.count('class="error"') == len(errors)  # one message per field, no repeats
    with app.app_context():
        assert db.session.get(Customer, newcomer.newcomer_id).password_hash is None


def test_expired_and_foreign_links_are_refused(app, client, newcomer, portal):
    url = _send_create(app, newcomer)
    other = portal("globex")
    token = url.rsplit("/", 1)[1]
    assert client.get(f"{other.standalone}/credentials/{token}").status_code == 404
    assert client.get(f"{newcomer.standalone}/credentials/not-a-token").status_code == 404
    with app.app_context():
        db.session.execute(update(CredentialToken).values(
            expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    response = client.get(url)
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)


def _normalised(response):
    return re.sub(r'(nonce|value)="[^"]*"', "", response.get_data(as_text=True))


def test_enrolment_answers_the_same_and_sends_only_to_a_known_address(app, client, newcomer):
    url = f"{newcomer.standalone}/enrol"
    known = _post(client, url, {"login": "OFFICE@example.test"})
    unknown = _post(client, url, {"login": "stranger@example.test"})
    by_username = _post(client, url, {"login": newcomer.username})
    assert known.status_code == unknown.status_code == by_username.status_code == 200
    assert _normalised(known) == _normalised(unknown) == _normalised(by_username)
    assert "Check your email" in known.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(EmailMessage)) is None  # decided by the worker
        assert queue.run_due() == 5  # three requests, then the two emails they queued
        sent = db.session.scalars(select(EmailMessage.to_address)).all()
    assert sorted(sent) == ["max@example.test", "office@example.test"]  # every address


def test_enrolment_of_an_enrolled_customer_sends_a_reset_instead(app, client, newcomer):
    _post(client, f"{newcomer.standalone}/enrol", {"login": newcomer.emails[0]})
    with app.app_context():
        queue.run_due()
    assert len(_links(app, "password_reset")) == 2
    assert _links(app, "credential_create") == []


def test_reset_by_username_ends_every_other_session(app, client, newcomer):
    signed_in = app.test_client()
    widget_login(signed_in, newcomer.base, newcomer.username, newcomer.password)
    assert signed_in.get(f"{newcomer.base}/account").status_code == 200
    forgot = _post(client, f"{newcomer.standalone}/forgot", {"login": newcomer.username})
    assert "Check your email" in forgot.get_data(as_text=True)
    with app.app_context():
        queue.run_due()
    [link, second] = _links(app, "password_reset")
    assert link == second
    url = _path(app, link)
    assert client.get(url).status_code == 200
    response = _post(client, url, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert signed_in.get(f"{newcomer.base}/account").status_code == 302  # signed out
    assert widget_login(app.test_client(), newcomer.base, newcomer.username,
                        newcomer.password).status_code == 400
    assert widget_login(app.test_client(), newcomer.base, newcomer.username,
                        NEW_PASSWORD).status_code == 302
    reused = client.get(url, follow_redirects=True)
    assert "This link no longer works" in reused.get_data(as_text=True)


def test_forgot_page_answers_the_same_for_unknown_logins(app, client, newcomer):
    url = f"{newcomer.standalone}/forgot"
    assert _normalised(_post(client, url, {"login": newcomer.username})) == _normalised(
        _post(client, url, {"login": "nobody"}))


def test_two_sign_ups_racing_for_one_username_get_one_each(app, newcomer):
    """On PostgreSQL the database constraint decides; the loser is told the name is taken."""
    with app.app_context():
        merchant = db.session.get(Merchant, newcomer.merchant_id)
        second = Customer(merchant_id=merchant.id, first_name="Eva", last_name="Zweite",
                          custom_fields={})
        db.session.add(second)
        db.session.flush()
        tokens = [credentials.issue_token(db.session.get(Customer, newcomer.newcomer_id),
                                          "create"),
                  credentials.issue_token(second, "create")]
        db.session.commit()
    barrier, outcomes = threading.Barrier(2), []

    def sign_up(raw):
        with app.app_context():
            merchant = db.session.get(Merchant, newcomer.merchant_id)
            found = credentials.look_up(merchant.id, raw, ("create",))
            barrier.wait(timeout=10)
            try:
                credentials.set_credentials(merchant, found.token, found.customer,
                                            username="same-name", password=NEW_PASSWORD)
                db.session.commit()  # as the request would at its end
                outcomes.append("ok")
            except DomainError as exc:
                outcomes.append(str(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sign_up, args=(raw,)) for raw in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes, key=len) == ["ok", "The username “same-name” is taken. Please "
                                               "choose another."]


def test_portal_link_in_credential_emails_is_the_merchants_portal_page(app, newcomer):
    """Issue #18 9d: {{ portal_link }} in a credential email goes where the other emails go."""
    with app.app_context():
        merchant = db.session.get(Merchant, newcomer.merchant_id)
        merchant.config = {"embedding": {"portal_page_url": "https://shop.example.com/account"},
                           "email_templates": {"credential_create": {
                               "subject": "Welcome",
                               "body": "Set up: {{ create_link }}\nPortal: {{ portal_link }}"}}}
        db.session.commit()
        assert enrolment.send_create(merchant, db.session.get(Customer, newcomer.newcomer_id))
        db.session.commit()
        body = db.session.scalar(select(EmailMessage.text_body))
    assert "Portal: https://shop.example.com/account#myaccount=/\n" in body + "\n"
    assert "/p/acme" not in body
