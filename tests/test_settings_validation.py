"""Settings writes are validated by the declaration itself, whoever writes (issue #18, P-2, P-7,
T-3): `Group.clean` refuses unknown keys and bad values, `save_tab` calls it, and values read
back from storage are checked again."""
from types import SimpleNamespace

import pytest

from widget_server.core.domain import DomainError
from widget_server.core.extensions import db
from widget_server.profiles import services
from widget_server.profiles.models import SelfServiceProfile
from widget_server.profiles.tabs import CUSTOMER, GLOBAL, PAYMENT
from widget_server.tenancy.configuration import PORTAL
from widget_server.tenancy.models import Merchant


@pytest.fixture
def profile(app, make_merchant):
    merchant_id, _ = make_merchant("acme")
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        made = services.create_profile(merchant, "Retail", "retail")
        db.session.commit()  # the test is the unit of work's boundary
        yield made


def _refused(profile, group, values) -> dict[str, str]:
    """The {field: message} of a refused save_tab; nothing was stored."""
    before = dict(profile.settings or {})
    with pytest.raises(DomainError) as caught:
        services.save_tab(profile, group, values)
    db.session.rollback()
    assert db.session.get(SelfServiceProfile, profile.id).settings == before
    assert caught.value.status == 400 and caught.value.errors
    return caught.value.errors


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"success_url": "javascript:alert(1)"}, "success_url", "complete URL"),
    ({"success_url": "http://shop.example.com/thanks"}, "success_url", "https://"),
    ({"payment_methods": []}, "payment_methods", "Pick at least one."),
    ({"payment_methods": ["card", "paypal"]}, "payment_methods", "paypal"),
    ({"payment_amount": "everything"}, "payment_amount", "Choose one of"),
    ({"allow_payments": "False"}, "allow_payments", "true or false"),
    ({"colour_of_money": "green"}, "colour_of_money", "Unknown setting"),
])
def test_save_tab_refuses_bad_payment_values_without_a_form(profile, change, field, message):
    errors = _refused(profile, PAYMENT, {**PAYMENT.load(None), **change})
    assert message in errors[field]


@pytest.mark.parametrize(("colour", "message"), [
    ("red", "#1a73e8"), ("#12345", "#1a73e8"), ("#aaaaaa", "contrast ratio of 2.32:1"),
])
def test_save_tab_refuses_a_bad_colour(profile, colour, message):
    errors = _refused(profile, GLOBAL, {**GLOBAL.load(None), "primary_color": colour})
    assert message in errors["primary_color"]


def test_every_failure_is_reported_at_once(profile):
    errors = _refused(profile, PAYMENT, {"success_url": "javascript:x", "payment_methods": [],
                                         "nope": 1})
    assert set(errors) == {"success_url", "payment_methods", "nope"}


def test_save_tab_stores_cleaned_values_and_a_partial_write_keeps_the_rest(profile):
    services.save_tab(profile, PAYMENT, {**PAYMENT.load(None),
                                         "success_url": " https://shop.example.com/ok ",
                                         "payment_methods": ["ach", "card", "ach"]})
    services.save_tab(profile, PAYMENT, {"allow_payments": False})
    stored = db.session.get(SelfServiceProfile, profile.id).settings["payment"]
    assert stored["success_url"] == "https://shop.example.com/ok"
    assert stored["payment_methods"] == ["card", "ach"]
    assert stored["allow_payments"] is False
    assert set(stored) == {s.key for s in PAYMENT.settings}


def test_custom_field_modes_are_checked_against_the_merchants_definitions(profile):
    from widget_server.customers import fields as field_service

    merchant = db.session.get(Merchant, profile.merchant_id)
    tier = field_service.create_definition(merchant, name="Tier", field_type="text",
                                           required=False, choices=[])
    db.session.commit()
    errors = _refused(profile, CUSTOMER, {"custom_field_parameters": {str(tier.id): "editable"}})
    assert "custom_field_parameters" in errors
    errors = _refused(profile, CUSTOMER, {"custom_field_parameters": {"999": "hidden"}})
    assert "custom_field_parameters" in errors
    services.save_tab(profile, CUSTOMER, {"custom_field_parameters": {str(tier.id): "hidden"}})
    assert profile.customer.custom_field_parameters == {str(tier.id): "hidden"}


def test_group_checks_run_in_clean_for_configuration_sections_too():
    with pytest.raises(DomainError) as caught:
        PORTAL.clean({"enable_customer_portal": True, "skip_login_screen": True})
    assert "Allow guest invoice payment" in caught.value.errors["skip_login_screen"]


def test_clean_accepts_and_types_good_values():
    cleaned = GLOBAL.clean({"primary_color": "#0B5CAD", "forgot_password_url":
                            "http://localhost:5000/forgot", "logo": "12/0123456789abcdef"})
    assert cleaned["primary_color"] == "#0b5cad"
    assert cleaned["logo"] == "12/0123456789abcdef"
    assert cleaned["theme"] == "default"  # missing keys take their defaults


@pytest.mark.parametrize(("group", "stored", "key", "default"), [
    (PAYMENT, {"success_url": "javascript:alert(1)"}, "success_url", ""),
    (PAYMENT, {"success_url": "http://evil.example/"}, "success_url", ""),
    (PAYMENT, {"payment_methods": []}, "payment_methods", ["card", "ach"]),
    (PAYMENT, {"payment_methods": ["paypal"]}, "payment_methods", ["card", "ach"]),
    (GLOBAL, {"primary_color": "#GGGGGG"}, "primary_color", "#0b5cad"),
    (GLOBAL, {"logo": "../../etc/passwd"}, "logo", ""),
    (GLOBAL, {"forgot_password_url": "https://ok.example/\"><script>"}, "forgot_password_url",
     ""),
])
def test_a_stored_bad_value_reads_back_as_the_default(group, stored, key, default):
    assert group.load(stored)[key] == default
    assert getattr(group.view(stored), key) == default


def test_a_stored_bad_value_reads_back_as_the_default_through_the_profile(profile):
    profile.settings = {"payment": {"success_url": "javascript:alert(1)",
                                    "payment_methods": [], "allow_payments": False}}
    db.session.commit()
    fresh = db.session.get(SelfServiceProfile, profile.id)
    assert fresh.payment.success_url == ""
    assert fresh.payment.payment_methods == ["card", "ach"]
    assert fresh.payment.allow_payments is False  # the good values stay


def test_declared_defaults_pass_their_own_clean():
    from widget_server.profiles.tabs import TABS
    from widget_server.tenancy.configuration import SECTIONS

    ctx = SimpleNamespace(custom_fields=[])
    for group in TABS + SECTIONS:
        assert group.clean(group.defaults(), ctx) == group.load(None, ctx)


def test_a_service_refusal_shows_beside_its_field_in_the_admin(app, owner_client, monkeypatch):
    """Should the service refuse what the form let through, the admin still sees each message
    next to its field (and a 400), never a 500."""
    owner_client.submit("/admin/profiles/new", {"name": "Retail", "slug": "retail"})
    with app.app_context():
        pid = db.session.scalar(db.select(SelfServiceProfile.id))

    def refuse(profile, group, values, ctx=None):
        raise DomainError.invalid({"success_url": "Refused by the service.",
                                   "payment_methods": "Also refused."})

    monkeypatch.setattr(services, "save_tab", refuse)
    response = owner_client.submit(f"/admin/profiles/{pid}/tabs/payment",
                                   {"allow_payments": "y", "payment_methods": "card",
                                    "payment_amount": "balance", "invoice_choice": "select",
                                    "card_ach_mode": "optional_save"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="success_url-error"' in page and "Refused by the service." in page
    assert "Also refused." in page


def test_the_admin_form_shows_the_clean_messages(app, owner_client):
    owner_client.submit("/admin/profiles/new", {"name": "Retail", "slug": "retail"})
    with app.app_context():
        pid = db.session.scalar(db.select(SelfServiceProfile.id))
    response = owner_client.submit(f"/admin/profiles/{pid}/tabs/payment",
                                   {"payment_methods": "card", "payment_amount": "balance",
                                    "invoice_choice": "select", "card_ach_mode": "optional_save",
                                    "success_url": "javascript:alert(1)"})
    assert response.status_code == 400
    assert 'id="success_url-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(SelfServiceProfile, pid).settings == {}
