"""Email templates (I-4, N-2, N-3): tokens only, sanitised HTML, branding, and the delivery log."""
import pytest
from sqlalchemy import select

from widget_server.core.extensions import db
from widget_server.jobs import queue
from widget_server.notifications import templates
from widget_server.notifications.models import EmailMessage
from widget_server.notifications.outbox import queue_email
from widget_server.tenancy.models import Merchant

INJECTIONS = [
    "{{ config }}",
    "{{ ''.__class__.__mro__ }}",
    "{% for x in range(99999999) %}x{% endfor %}",
    "{{ 'x' * 200000000 }}",
    "{{ contact_name|upper }}",
    "{{ request.environ }}",
    "{# comment #}",
    "Hello {{ contact_name",
    "{{ create_link }}",  # a real token, but not one of this type's
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_template_injection_is_refused_when_saved(app, owner_client, text):
    url = "/admin/emails/templates/invoice_issued"
    for field in ("subject", "body"):
        data = {"subject": "Invoice {{ invoice_number }}", "body": "Hello", field: text}
        response = owner_client.submit(url, data)
        assert response.status_code == 400
        assert f'id="{field}-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert "email_templates" not in db.session.get(Merchant, owner_client.merchant_id).config


@pytest.mark.parametrize("text", INJECTIONS[:4])
def test_invitation_defaults_refuse_injection_too(app, owner_client, text):
    response = owner_client.submit("/admin/configuration/invitations", {
        "invitation_subject": "Hi", "invitation_body": f"Hello {text}"})
    assert response.status_code == 400
    assert "is not allowed" in response.get_data(as_text=True)


def test_saved_override_is_used_and_values_are_escaped(app, owner_client):
    response = owner_client.submit("/admin/emails/templates/invoice_issued", {
        "subject": "Bill {{ invoice_number }} for {{ contact_name }}",
        "body": "<p onclick=\"steal()\">Dear {{ contact_name }}</p><script>x()</script>"
                "<p><b>Pay</b>: {{ pay_link }}</p>"})
    assert response.status_code == 302
    with app.app_context():
        merchant = db.session.get(Merchant, owner_client.merchant_id)
        rendered = templates.render(merchant, "invoice_issued", {
            "contact_name": "<img src=x onerror=alert(1)>\r\nBcc: evil@example.test",
            "invoice_number": "INV-7", "pay_link": "https://portal.example.test/pay/abc"})
    assert rendered.subject == ("Bill INV-7 for <img src=x onerror=alert(1)> Bcc: "
                                "evil@example.test")  # one line: no header injection
    assert "onerror" not in rendered.html.replace("onerror=alert(1)&gt;", "")
    assert "&lt;img src=x" in rendered.html
    assert "<script>" not in rendered.html and "onclick" not in rendered.html
    assert '<a href="https://portal.example.test/pay/abc" rel="noopener noreferrer">' in \
        rendered.html
    assert "<b>Pay</b>" in rendered.html
    assert "Pay: https://portal.example.test/pay/abc" in rendered.text


def test_default_texts_carry_the_merchant_branding(app, ctx, make_merchant):
    merchant_id, _ = make_merchant("acme", name="Acme Ltd")
    merchant = db.session.get(Merchant, merchant_id)
    merchant.config = {"branding": {"brand_color": "#7a1f5c"}}
    rendered = templates.render(merchant, "password_reset", {
        "contact_name": "Jane", "reset_link": "https://p.example.test/r/1"})
    assert rendered.subject == "Reset your Acme Ltd password"
    assert "#7a1f5c" in rendered.html and "Acme Ltd" in rendered.html
    assert "https://p.example.test/r/1" in rendered.text



@pytest.mark.parametrize("type_key", sorted(templates.EMAIL_TYPES))
def test_the_html_part_says_the_language_of_its_text(app, ctx, make_merchant, type_key):
    """Issue #18 9f (B-5): a German merchant's emails said lang="de" on English text."""
    merchant_id, _ = make_merchant("acme", locale="de_DE")
    merchant = db.session.get(Merchant, merchant_id)
    rendered = templates.render(merchant, type_key, {"contact_name": "Jane"})  # default texts
    assert rendered.html.startswith('<!doctype html>\n<html lang="en">')


def _failed_message(app, merchant_id, address="jane@example.test"):
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        content = templates.render(merchant, "test", {"contact_name": "Jane"})
        [message] = queue_email(merchant, "test", [address], content)
        db.session.commit()
        queue.run_due()  # its job runs; the message then "fails" as a refused address would
        message = db.session.get(EmailMessage, message.id)
        message.status, message.last_error = "failed", "SMTPRecipientsRefused: mailbox unknown"
        db.session.commit()
        return message.id


def test_delivery_log_shows_a_failed_message_with_its_reason(app, owner_client):
    message_id = _failed_message(app, owner_client.merchant_id)
    log = owner_client.client.get("/admin/emails?status=failed").get_data(as_text=True)
    assert "jane@example.test" in log and "mailbox unknown" in log
    assert "jane@example.test" not in owner_client.client.get(
        "/admin/emails?status=sent").get_data(as_text=True)
    detail = owner_client.client.get(f"/admin/emails/{message_id}").get_data(as_text=True)
    assert "SMTPRecipientsRefused: mailbox unknown" in detail and "Send again" in detail
    html_part = owner_client.client.get(f"/admin/emails/{message_id}/html")
    assert "sandbox" in html_part.headers["Content-Security-Policy"]
    response = owner_client.submit(f"/admin/emails/{message_id}/retry", {},
                                   form_url=f"/admin/emails/{message_id}")
    assert response.status_code == 302
    with app.app_context():
        message = db.session.get(EmailMessage, message_id)
        assert message.status == "queued" and message.last_error == ""
        assert queue.run_due() == 1


def test_other_merchants_emails_are_invisible(app, owner_client, make_merchant):
    other_id, _ = make_merchant("globex")
    message_id = _failed_message(app, other_id, "secret@globex.test")
    assert owner_client.client.get(f"/admin/emails/{message_id}").status_code == 404
    assert owner_client.client.get(f"/admin/emails/{message_id}/html").status_code == 404
    assert "secret@globex.test" not in owner_client.client.get("/admin/emails").get_data(
        as_text=True)


def test_test_email_button_queues_a_message_to_the_admin(app, owner_client):
    response = owner_client.submit("/admin/emails/test", {}, form_url="/admin/emails",
                                   follow=True)
    assert "A test email to owner@acme.test is queued" in response.get_data(as_text=True)
    with app.app_context():
        message = db.session.scalar(select(EmailMessage))
        assert message.to_address == "owner@acme.test" and message.email_type == "test"


def test_staff_cannot_see_the_delivery_log(app, client, browser_like, make_merchant,
                                           make_admin):
    merchant_id, _ = make_merchant("acme")
    browser_like.login(make_admin(merchant_id, "staff@acme.test"), "staff-pass-123")
    assert client.get("/admin/emails").status_code == 403


def test_emails_take_the_default_profiles_logo_and_colour(app, ctx, portal):
    """Issue #20 item 9: branding is set in one place. The default profile's uploaded logo and
    primary colour are the emails' too; Configuration → Branding only overrides them."""
    from widget_server.profiles.models import SelfServiceProfile

    p = portal()
    merchant = db.session.get(Merchant, p.merchant_id)
    profile = db.session.get(SelfServiceProfile, p.profile_id)
    assert profile.is_default
    profile.settings = {"global": {"primary_color": "#2f5d3a", "logo": "7/0123456789abcdef"}}
    db.session.flush()
    values = {"contact_name": "Jane", "reset_link": "https://p.example.test/r/1"}

    html = templates.render(merchant, "password_reset", values).html
    assert "#2f5d3a" in html and "#0b5cad" not in html
    assert 'src="https://portal.example.test/media/7/0123456789abcdef"' in html

    merchant.config = {**merchant.config, "branding": {
        "logo_url": "https://cdn.example.test/mail-logo.png", "brand_color": "#7a1f5c"}}
    html = templates.render(merchant, "password_reset", values).html
    assert "#7a1f5c" in html and "#2f5d3a" not in html
    assert 'src="https://cdn.example.test/mail-logo.png"' in html

    # a profile colour that would fail 4.5:1 on a customised email background is not taken
    merchant.config = {**merchant.config, "branding": {"background_color": "#2f5d3a"}}
    html = templates.render(merchant, "password_reset", values).html
    assert "border-bottom:4px solid #0b5cad" in html
