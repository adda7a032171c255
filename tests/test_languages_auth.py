"""Languages (issue #20 item 5, spec B-5): the sign-in, credential and profile pages, their
messages and the overview's activity in the customer's language; English stays English."""
from widget_server.core.extensions import db
from widget_server.tenancy.models import Merchant

from .conftest import csrf_from, widget_login


def _speak(app, merchant_id, locale, languages=None):
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        merchant.locale = locale
        if languages is not None:
            merchant.config = {**(merchant.config or {}), "portal": {"languages": languages}}
        db.session.commit()


def _post(client, url, data, **kwargs):
    page = client.get(url, **kwargs)
    assert page.status_code == 200, page.status_code
    return client.post(url, data={"csrf_token": csrf_from(page.get_data(as_text=True)), **data},
                       **kwargs)


def test_credential_pages_in_german(app, portal, client):
    p = portal()
    _speak(app, p.merchant_id, "de_DE")
    forgot = client.get(f"{p.base}/forgot").get_data(as_text=True)
    assert "Passwort vergessen?" in forgot and "Link senden" in forgot
    assert "Zurück zur Anmeldung" in forgot
    enrol = client.get(f"{p.base}/enrol").get_data(as_text=True)
    assert "Zugangsdaten anlegen" in enrol and "E-Mail-Adresse" in enrol
    sent = _post(client, f"{p.base}/forgot", {"login": "nobody@example.test"})
    assert "Prüfen Sie Ihre E-Mails" in sent.get_data(as_text=True)
    expired = client.get(f"{p.base}/reset/no-such-token")
    assert expired.status_code == 404
    assert "Dieser Link ist abgelaufen oder ungültig" in expired.get_data(as_text=True)


def test_a_wrong_password_and_the_password_rules_in_german(app, portal, client):
    p = portal()
    _speak(app, p.merchant_id, "de_DE")
    refused = widget_login(client, p.base, p.username, "wrong-password")
    assert refused.status_code == 400
    assert "Benutzername/E-Mail oder Passwort ist falsch." in refused.get_data(as_text=True)
    widget_login(client, p.base, p.username, p.password)
    page = client.get(f"{p.base}/password").get_data(as_text=True)
    assert "Ihr Passwort ändern" in page and "Das Passwort muss mindestens" in page
    short = _post(client, f"{p.base}/password", {"current": "nope", "password": "a",
                                                 "confirm": "a"})
    text = short.get_data(as_text=True)
    assert "Ihr aktuelles Passwort ist nicht richtig." in text
    assert "Das Passwort muss mindestens" in text and "enthalten." in text


def test_the_profile_in_french(app, portal, client):
    p = portal()
    _speak(app, p.merchant_id, "fr_FR")
    widget_login(client, p.base, p.username, p.password)
    page = client.get(f"{p.base}/profile").get_data(as_text=True)
    assert "Prénom" in page and "Code postal" in page
    refused = _post(client, f"{p.base}/profile", {
        "first_name": "J", "last_name": "Doe", "primary_email": "jane@example.test"})
    assert refused.status_code == 400
    assert "doit contenir au moins 2 lettres" in refused.get_data(as_text=True)
    saved = _post(client, f"{p.base}/profile", {
        "first_name": "Jeanne", "last_name": "Doe", "primary_email": "jane@example.test"},
        follow_redirects=True)
    assert "Vos coordonnées sont enregistrées." in saved.get_data(as_text=True)


def test_the_overviews_activity_in_german(app, billed):
    _speak(app, billed.merchant_id, "de_DE")
    overview = billed.client.get(f"{billed.base}/account").get_data(as_text=True)
    assert "Rechnung " in overview and "Invoice " not in overview


def test_english_stays_english(app, portal, client):
    p = portal()
    refused = widget_login(client, p.base, p.username, "wrong-password")
    assert "Username/email or password is incorrect." in refused.get_data(as_text=True)
    forgot = client.get(f"{p.base}/forgot").get_data(as_text=True)
    assert "Forgot your password?" in forgot


def test_domain_messages_outside_the_widget_are_english(app, portal):
    """The admin and the worker have no customer: the services' messages stay English."""
    from widget_server.core.domain import DomainError
    from widget_server.customers import credentials

    p = portal()
    _speak(app, p.merchant_id, "de_DE")
    with app.test_request_context("/admin/"), app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        try:
            credentials.check_password(merchant, "a")
        except DomainError as exc:
            assert str(exc).startswith("The password needs at least")
        else:
            raise AssertionError("a one-letter password passed")
