"""The customer's profile page (C-11, P-3, P-8)."""
import pytest

from tests.conftest import csrf_from, widget_login
from widget_server.customers import fields as field_service
from widget_server.customers.models import Customer
from widget_server.extensions import db
from widget_server.profiles.models import SelfServiceProfile
from widget_server.tenancy.models import Merchant

VALID = {"first_name": "Zoë-Ann", "last_name": "O'Neil",
         "primary_email": "zoe@example.test, ap@example.test", "phone": "+1 555 010 0199"}


@pytest.fixture
def me(app, portal):
    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        ids = {}
        for name in ("Region", "Tier", "Internal score"):
            d = field_service.create_definition(merchant, name=name, field_type="text",
                                                required=False, choices=[])
            ids[name] = d.id
        customer = db.session.get(Customer, p.customer_id)
        customer.custom_fields = {str(ids["Tier"]): "Gold", str(ids["Internal score"]): "42"}
        profile = db.session.get(SelfServiceProfile, p.profile_id)
        profile.settings = {"customer": {"custom_field_parameters": {
            str(ids["Region"]): "read_write", str(ids["Tier"]): "read_only",
            str(ids["Internal score"]): "hidden"}}}
        db.session.commit()
    client = app.test_client()
    widget_login(client, p.base, p.username, p.password)
    p.client, p.ids = client, ids
    return p


def _save(p, data):
    page = p.client.get(f"{p.base}/profile").get_data(as_text=True)
    return p.client.post(f"{p.base}/profile", data={"csrf_token": csrf_from(page), **data})


def test_custom_fields_follow_their_modes(app, me):
    page = me.client.get(f"{me.base}/profile").get_data(as_text=True)
    assert "Region" in page and "Tier" in page and "Internal score" not in page and "42" not in page
    response = _save(me, {**VALID, f"cf_{me.ids['Region']}": "North",
                          f"cf_{me.ids['Tier']}": "Platinum",
                          f"cf_{me.ids['Internal score']}": "100"})
    assert response.status_code == 302
    with app.app_context():
        customer = db.session.get(Customer, me.customer_id)
        assert customer.first_name == "Zoë-Ann" and customer.primary_emails == [
            "zoe@example.test", "ap@example.test"]
        assert customer.custom_fields == {str(me.ids["Region"]): "North",
                                          str(me.ids["Tier"]): "Gold",
                                          str(me.ids["Internal score"]): "42"}


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"first_name": "J"}, "first_name", "at least 2 letters"),
    ({"last_name": "Sm1th"}, "last_name", "only letters"),
    ({"primary_email": "not-an-email"}, "primary_email", "is not a valid email address"),
    ({"phone": "abc"}, "phone", "7 to 15 digits"),
])
def test_profile_messages_next_to_each_field(app, me, change, field, message):
    response = _save(me, {**VALID, **change})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    with app.app_context():
        assert db.session.get(Customer, me.customer_id).first_name == "Jane"


def test_phone_number_required_by_the_profile(app, me):
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, me.profile_id)
        profile.settings = {**profile.settings, "customer": {
            **profile.settings["customer"], "phone_number_required": True}}
        db.session.commit()
    response = _save(me, {**VALID, "phone": ""})
    assert response.status_code == 400
    assert "Enter your phone number." in response.get_data(as_text=True)


def test_profile_edit_off_shows_details_and_refuses_a_crafted_post(app, me):
    token = csrf_from(me.client.get(f"{me.base}/profile").get_data(as_text=True))
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, me.profile_id)
        profile.settings = {**profile.settings, "customer": {
            **profile.settings["customer"], "allow_profile_edit": False}}
        db.session.commit()
    page = me.client.get(f"{me.base}/profile").get_data(as_text=True)
    assert "Save my details" not in page and "jane@example.test" in page
    response = me.client.post(f"{me.base}/profile", data={"csrf_token": token, **VALID})
    assert response.status_code == 403
