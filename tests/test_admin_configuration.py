"""Merchant configuration (T-1, T-3) through the admin: every section saves, bad input does not."""
import pytest

from widget_server.core.extensions import db
from widget_server.tenancy.configuration import (
    EMBEDDING,
    PAYMENTS,
    PORTAL,
    SECURITY,
    merchant_settings,
)
from widget_server.tenancy.models import Merchant


def _merchant(app, merchant_id):
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        db.session.expunge(merchant)
        return merchant


def test_general_details_are_saved(app, owner_client):
    response = owner_client.submit("/admin/configuration", {
        "name": "Acme GmbH", "currency": "EUR", "locale": "de_DE",
        "timezone": "Europe/Berlin"})
    assert response.status_code == 302
    merchant = _merchant(app, owner_client.merchant_id)
    assert (merchant.name, merchant.currency, merchant.locale, merchant.timezone) == (
        "Acme GmbH", "EUR", "de_DE", "Europe/Berlin")


@pytest.mark.parametrize(("field", "value"), [("currency", "XYZ"), ("locale", "xx_YY"),
                                              ("timezone", "Mars/Olympus")])
def test_unknown_general_choices_are_refused(app, owner_client, field, value):
    data = {"name": "Acme", "currency": "USD", "locale": "en_US", "timezone": "UTC",
            field: value}
    response = owner_client.submit("/admin/configuration", data)
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert getattr(_merchant(app, owner_client.merchant_id), field) != value


def test_portal_switch_and_guest_payment_are_kept(app, owner_client):
    response = owner_client.submit("/admin/configuration/portal",
                                   {"allow_guest_invoice_payment": "y"})
    assert response.status_code == 302
    portal = merchant_settings(_merchant(app, owner_client.merchant_id), PORTAL)
    assert portal.enable_customer_portal is False
    assert portal.allow_guest_invoice_payment is True
    page = owner_client.client.get("/admin/configuration/portal").get_data(as_text=True)
    assert "Requiring login is recommended" in page


def test_allowed_origins_saved_normalised(app, owner_client):
    owner_client.submit("/admin/configuration/embedding", {
        "allowed_origins": "https://Shop.Example.com/\nhttp://127.0.0.1:5000"})
    embedding = merchant_settings(_merchant(app, owner_client.merchant_id), EMBEDDING)
    assert embedding.allowed_origins == ["https://shop.example.com", "http://127.0.0.1:5000"]


def test_bad_origin_saves_nothing(app, owner_client):
    response = owner_client.submit("/admin/configuration/embedding", {
        "allowed_origins": "https://ok.example.com\nhttp://shop.example.com"})
    assert response.status_code == 400
    assert "must start with https://" in response.get_data(as_text=True)
    assert _merchant(app, owner_client.merchant_id).config == {}


@pytest.mark.parametrize(("value", "message"), [("2", "between 3 and 50"),
                                                ("many", "valid integer"),
                                                ("", "whole number")])
def test_lockout_threshold_range(app, owner_client, value, message):
    response = owner_client.submit("/admin/configuration/security", {
        "lockout_threshold": value, "password_min_length": "12"})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert merchant_settings(_merchant(app, owner_client.merchant_id),
                             SECURITY).lockout_threshold == 5


def test_overlong_invitation_subject_is_refused(app, owner_client):
    response = owner_client.submit("/admin/configuration/invitations", {
        "invitation_subject": "x" * 201, "invitation_body": "Hello"})
    assert response.status_code == 400
    assert "longer than 200" in response.get_data(as_text=True)


def test_notification_switches(app, owner_client):
    owner_client.submit("/admin/configuration/notifications", {
        "credential_create": "y", "password_reset": "y", "invoice_issued": "y"})
    from widget_server.tenancy.configuration import NOTIFICATIONS

    notes = merchant_settings(_merchant(app, owner_client.merchant_id), NOTIFICATIONS)
    assert notes.credential_create and notes.password_reset and notes.invoice_issued
    assert not notes.invitation and not notes.payment_receipt and not notes.temporary_password


def test_stripe_account_id_is_kept(app, owner_client):
    page = owner_client.client.get("/admin/configuration/payments").get_data(as_text=True)
    assert "Stripe account ID" in page
    response = owner_client.submit("/admin/configuration/payments",
                                   {"stripe_account_id": "  acct_1Nv0FGQ9RKHgCVdK "})
    assert response.status_code == 302
    payments = merchant_settings(_merchant(app, owner_client.merchant_id), PAYMENTS)
    assert payments.stripe_account_id == "acct_1Nv0FGQ9RKHgCVdK"
    owner_client.submit("/admin/configuration/payments", {"stripe_account_id": ""})
    assert merchant_settings(_merchant(app, owner_client.merchant_id),
                             PAYMENTS).stripe_account_id == ""


@pytest.mark.parametrize("value", ["sk_live_51Habcdefghijklmnop", "acct_", "acct_1Nv0 FGQ9RKHg",
                                   "acct_1Nv0FGQ9RKHgCVdK/../x", "ACCT_1NV0FGQ9RKHGCVDK",
                                   "acct_" + "a" * 61])
def test_a_malformed_stripe_account_id_is_refused(app, owner_client, value):
    response = owner_client.submit("/admin/configuration/payments", {"stripe_account_id": value})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="stripe_account_id-error"' in page
    assert "Never paste a secret key here" in page or "longer than 64" in page
    assert _merchant(app, owner_client.merchant_id).config == {}


def test_a_stripe_account_of_another_merchant_is_refused(app, owner_client, make_merchant):
    other_id, _ = make_merchant("other")
    with app.app_context():
        from widget_server.tenancy.configuration import PAYMENTS
        from widget_server.tenancy.services import save_section

        save_section(db.session.get(Merchant, other_id), PAYMENTS,
                     {"stripe_account_id": "acct_1OtherMerchant2"})
        db.session.commit()
    response = owner_client.submit("/admin/configuration/payments",
                                   {"stripe_account_id": "acct_1OtherMerchant2"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="stripe_account_id-error"' in page and "another merchant" in page
    assert _merchant(app, owner_client.merchant_id).config == {}


def test_the_database_keeps_a_stripe_account_to_one_merchant(app, make_merchant):
    """The column is unique: even a writer that skips the service's check cannot give one
    connected account to two merchants (webhooks find their merchant by it)."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    first, _ = make_merchant("first")
    second, _ = make_merchant("second")
    with app.app_context():
        db.session.get(Merchant, first).stripe_account_id = "acct_1SharedAccount9"
        db.session.commit()
        db.session.get(Merchant, second).stripe_account_id = "acct_1SharedAccount9"
        with pytest.raises(IntegrityError):
            db.session.commit()



def test_business_and_tax_section_renders_and_saves_a_multiline_address(app, owner_client):
    from widget_server.tenancy.configuration import BUSINESS, prices_include_tax

    page = owner_client.client.get("/admin/configuration/business").get_data(as_text=True)
    assert "Business and tax" in page
    assert '<textarea' in page and 'name="address"' in page
    assert "/admin/configuration/business" in owner_client.client.get(
        "/admin/configuration").get_data(as_text=True)
    response = owner_client.submit("/admin/configuration/business", {
        "legal_name": "Acme Outdoor GmbH", "address": "Hauptstraße 1\r\n10115 Berlin\r\nGermany",
        "tax_number": "DE123456789", "prices_include_tax": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    merchant = _merchant(app, owner_client.merchant_id)
    business = merchant_settings(merchant, BUSINESS)
    assert business.legal_name == "Acme Outdoor GmbH"
    assert business.address.splitlines() == ["Hauptstraße 1", "10115 Berlin", "Germany"]
    assert business.tax_number == "DE123456789"
    assert prices_include_tax(merchant) is True
    page = owner_client.client.get("/admin/configuration/business").get_data(as_text=True)
    assert "Hauptstraße 1\n10115 Berlin\nGermany" in page or \
        "Hauptstraße 1\r\n10115 Berlin\r\nGermany" in page
    # a legal name too long is refused next to its field, nothing saved
    response = owner_client.submit("/admin/configuration/business", {
        "legal_name": "x" * 201, "address": "", "tax_number": ""})
    assert response.status_code == 400
    assert 'id="legal_name-error"' in response.get_data(as_text=True)
    assert merchant_settings(_merchant(app, owner_client.merchant_id),
                             BUSINESS).legal_name == "Acme Outdoor GmbH"
