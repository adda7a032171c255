"""The customer's profile page (C-11, P-3, P-8)."""
import pytest

from tests.conftest import csrf_from, widget_login
from widget_server.core.extensions import db
from widget_server.customers import fields as field_service
from widget_server.customers.models import Customer
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
            db.session.commit()
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
    assert "Region" in page and "Tier" in page and "Internal score" not in page
    assert 'value="42"' not in page and ">42<" not in page  # not "42" inside a random token
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


@pytest.fixture
def yes_no(app, me):
    """A Read Write yes/no field (set to no) and a Read Only one (set to yes) on the profile."""
    with app.app_context():
        merchant = db.session.get(Merchant, me.merchant_id)
        vip = field_service.create_definition(merchant, name="VIP", field_type="boolean",
                                              required=False, choices=[])
        db.session.commit()
        paper = field_service.create_definition(merchant, name="Paper invoices",
                                                field_type="boolean", required=False, choices=[])
        db.session.commit()
        customer = db.session.get(Customer, me.customer_id)
        customer.custom_fields = {**customer.custom_fields, str(vip.id): False,
                                  str(paper.id): True}
        profile = db.session.get(SelfServiceProfile, me.profile_id)
        modes = profile.settings["customer"]["custom_field_parameters"]
        profile.settings = {"customer": {"custom_field_parameters": {
            **modes, str(vip.id): "read_write", str(paper.id): "read_only"}}}
        db.session.commit()
        me.ids.update(VIP=vip.id, Paper=paper.id)
    return me


def _form_fields(page):
    """What a browser would submit for the page's form: inputs with a name, ticked boxes only."""
    import re

    data = {}
    for tag in re.findall(r"<(?:input|textarea|select)\b[^>]*>", page):
        name = re.search(r'\bname="([^"]+)"', tag)
        if not name or " disabled" in tag:
            continue
        if 'type="checkbox"' in tag:
            if " checked" in tag:
                data[name.group(1)] = re.search(r'\bvalue="([^"]*)"', tag).group(1)
            continue
        value = re.search(r'\bvalue="([^"]*)"', tag)
        data[name.group(1)] = value.group(1) if value else ""
    return data


def test_yes_no_field_saved_unchanged_stays_no(app, yes_no):
    """Issue #18 (7): a Read Write yes/no field showed as a text box holding "False", and saving
    the page unchanged stored True."""
    vip = yes_no.ids["VIP"]
    page = yes_no.client.get(f"{yes_no.base}/profile").get_data(as_text=True)
    assert f'id="cf_{vip}" name="cf_{vip}" type="checkbox"' in page
    assert "False" not in page
    data = _form_fields(page)
    assert f"cf_{vip}" not in data  # an unticked box sends nothing
    response = yes_no.client.post(f"{yes_no.base}/profile", data={**data, **VALID})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        stored = db.session.get(Customer, yes_no.customer_id).custom_fields
        assert stored[str(vip)] is False
        assert stored[str(yes_no.ids["Paper"])] is True


def test_yes_no_field_ticked_and_unticked(app, yes_no):
    vip = yes_no.ids["VIP"]
    assert _save(yes_no, {**VALID, f"cf_{vip}": "y"}).status_code == 302
    with app.app_context():
        assert db.session.get(Customer, yes_no.customer_id).custom_fields[str(vip)] is True
    page = yes_no.client.get(f"{yes_no.base}/profile").get_data(as_text=True)
    assert _form_fields(page)[f"cf_{vip}"] == "y"  # shown ticked
    assert _save(yes_no, VALID).status_code == 302
    with app.app_context():
        assert db.session.get(Customer, yes_no.customer_id).custom_fields[str(vip)] is False


@pytest.mark.parametrize("value", ["False", "no", "maybe"])
def test_yes_no_field_parsing_is_strict(app, yes_no, value):
    vip = yes_no.ids["VIP"]
    response = _save(yes_no, {**VALID, f"cf_{vip}": value})
    assert response.status_code == 400
    assert f'id="cf_{vip}-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Customer, yes_no.customer_id).custom_fields[str(vip)] is False


def test_read_only_yes_no_field_is_shown_but_never_written(app, yes_no):
    paper = yes_no.ids["Paper"]
    page = yes_no.client.get(f"{yes_no.base}/profile").get_data(as_text=True)
    assert f'id="cf_{paper}"' in page and "Paper invoices" in page
    response = _save(yes_no, VALID)  # a ticked Read Only box is not sent: it is disabled
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Customer, yes_no.customer_id).custom_fields[str(paper)] is True


def test_update_profile_service_owns_the_rules(app, yes_no):
    """The page's rules hold without the page: modes, phone required, names (W-6, C-11)."""
    from widget_server.core.domain import DomainError
    from widget_server.customers import services

    vip, paper, tier = yes_no.ids["VIP"], yes_no.ids["Paper"], yes_no.ids["Tier"]
    score = yes_no.ids["Internal score"]
    with app.app_context():
        merchant = db.session.get(Merchant, yes_no.merchant_id)
        profile = db.session.get(SelfServiceProfile, yes_no.profile_id)
        customer = db.session.get(Customer, yes_no.customer_id)
        services.update_profile(merchant, profile, customer, details={
            "first_name": "Zoë", "last_name": "Doe", "phone": ""},
            emails=["jane@example.test"],
            custom_input={str(vip): "on", str(paper): False, str(tier): "Platinum",
                          str(score): "100"})
        db.session.commit()
        assert customer.custom_fields[str(vip)] is True
        assert customer.custom_fields[str(paper)] is True  # Read Only: not written
        assert customer.custom_fields[str(tier)] == "Gold"
        assert customer.custom_fields[str(score)] == "42"  # Hidden: not written
        profile.settings = {**profile.settings, "customer": {
            **profile.settings["customer"], "phone_number_required": True}}
        db.session.commit()
        with pytest.raises(DomainError) as caught:
            services.update_profile(merchant, profile, customer, details={
                "first_name": "J", "last_name": "Doe", "phone": ""},
                emails=["jane@example.test"], custom_input={str(vip): "False"})
        assert set(caught.value.errors) == {"first_name", "phone", f"cf_{vip}"}
        db.session.rollback()
        assert db.session.get(Customer, yes_no.customer_id).first_name == "Zoë"
