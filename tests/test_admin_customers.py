"""Customers and custom fields in the admin (T-5, C-2): create, edit, validate, search, isolate."""
import pytest
from sqlalchemy import select

from widget_server.core.extensions import db
from widget_server.customers import fields as field_service
from widget_server.customers.models import Customer
from widget_server.tenancy.models import Merchant

VALID = {"first_name": "Zoë-Ann", "last_name": "O'Neil", "primary_email":
         "Zoe@Example.test, billing@example.test\nzoe@example.test", "phone": "+44 20 7946 0958",
         "address_line1": "1 High St", "city": "London", "postal_code": "N1 9GU",
         "country": "GB"}


@pytest.fixture
def definitions(app, owner_client):
    with app.app_context():
        merchant = db.session.get(Merchant, owner_client.merchant_id)
        made = [
            field_service.create_definition(merchant, name="Region", field_type="choice",
                                            required=True, choices=["North", "South"]),
            field_service.create_definition(merchant, name="Seats", field_type="number",
                                            required=False, choices=[]),
            field_service.create_definition(merchant, name="Renewal", field_type="date",
                                            required=False, choices=[]),
        ]
        db.session.commit()
        return {d.name: d.id for d in made}


def _customers(app):
    with app.app_context():
        rows = db.session.scalars(select(Customer)).all()
        for row in rows:
            row.primary_emails  # noqa: B018  (load before the session closes)
            db.session.expunge(row)
        return rows


def test_create_customer_with_several_primary_email_addresses(app, owner_client, definitions):
    data = {**VALID, f"cf_{definitions['Region']}": "North",
            f"cf_{definitions['Seats']}": "12", f"cf_{definitions['Renewal']}": "2027-01-31"}
    response = owner_client.submit("/admin/customers/new", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    [customer] = _customers(app)
    assert customer.display_name == "Zoë-Ann O'Neil"
    assert customer.primary_emails == ["zoe@example.test", "billing@example.test"]
    assert customer.custom_fields == {str(definitions["Region"]): "North",
                                      str(definitions["Seats"]): "12",
                                      str(definitions["Renewal"]): "2027-01-31"}
    page = owner_client.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "zoe@example.test\nbilling@example.test" in page
    assert 'id="portal-panel"' in page


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"primary_email": "good@example.test, not-an-address"}, "primary_email",
     "“not-an-address” is not a valid email address."),
    ({"primary_email": ""}, "primary_email", "This field is required."),
    ({"first_name": "J"}, "first_name", "at least 2 letters"),
    ({"first_name": "R2D2"}, "first_name", "only letters"),
    ({"last_name": "<script>"}, "last_name", "only letters"),
    ({"phone": "call me"}, "phone", "7 to 15 digits"),
    ({"country": "XX"}, "country", "Not a valid choice"),
    ({"city": "x" * 101}, "city", "longer than 100"),
])
def test_bad_customer_input_is_refused_next_to_the_field(app, owner_client, definitions,
                                                         change, field, message):
    data = {**VALID, f"cf_{definitions['Region']}": "North", **change}
    response = owner_client.submit("/admin/customers/new", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert message in page
    assert _customers(app) == []


@pytest.mark.parametrize(("name", "value", "message"), [
    ("Region", "", "Region is required."),
    ("Region", "West", "Choose one of the listed values."),
    ("Seats", "twelve", "Enter a number"),
    ("Renewal", "31/01/2027", "YYYY-MM-DD"),
])
def test_custom_field_values_are_checked_against_definitions(app, owner_client, definitions,
                                                              name, value, message):
    data = {**VALID, f"cf_{definitions['Region']}": "North", f"cf_{definitions[name]}": value}
    response = owner_client.submit("/admin/customers/new", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="cf_{definitions[name]}-error"' in page and message in page
    assert _customers(app) == []


def test_edit_customer_changes_emails_and_keeps_order(app, owner_client, definitions):
    owner_client.submit("/admin/customers/new", {**VALID, f"cf_{definitions['Region']}": "South"})
    [customer] = _customers(app)
    url = f"/admin/customers/{customer.id}"
    response = owner_client.submit(url, {**VALID, f"cf_{definitions['Region']}": "South",
                                         "primary_email": "new@example.test\nzoe@example.test",
                                         "phone": ""})
    assert response.status_code == 302
    [customer] = _customers(app)
    assert customer.primary_emails == ["new@example.test", "zoe@example.test"]
    assert customer.phone == ""


def test_removed_definition_drops_out_of_the_form(app, owner_client, definitions):
    with app.app_context():
        merchant = db.session.get(Merchant, owner_client.merchant_id)
        field_service.delete_definition(field_service.get_definition(merchant,
                                                                     definitions["Region"]))
        db.session.commit()
    page = owner_client.client.get("/admin/customers/new").get_data(as_text=True)
    assert f'cf_{definitions["Region"]}' not in page
    assert f'cf_{definitions["Seats"]}' in page
    assert owner_client.submit("/admin/customers/new", VALID).status_code == 302


def test_search_by_name_and_email_with_pagination(app, owner_client):
    app.config["ADMIN_PAGE_SIZE"] = 2
    try:
        for i, name in enumerate(["Anna", "Bert", "Carl"]):
            owner_client.submit("/admin/customers/new", {
                **VALID, "first_name": name, "last_name": "Smith",
                "primary_email": f"{name.lower()}@shop{i}.test"}, follow=True)
        client = owner_client.client
        page1 = client.get("/admin/customers").get_data(as_text=True)
        assert "3 customers" in page1 and "Anna Smith" in page1 and "Carl Smith" not in page1
        page2 = client.get("/admin/customers?page=2").get_data(as_text=True)
        assert "Carl Smith" in page2 and "Anna Smith" not in page2
        found = client.get("/admin/customers?q=SHOP1").get_data(as_text=True)
        assert "1 customer " in found and "Bert Smith" in found
        by_name = client.get("/admin/customers?q=carl").get_data(as_text=True)
        assert "Carl Smith" in by_name and "Anna Smith" not in by_name
        assert client.get("/admin/customers?page=abc").status_code == 200
    finally:
        app.config["ADMIN_PAGE_SIZE"] = 25


def test_other_merchants_customer_is_404_and_invisible(app, owner_client, make_merchant):
    other_id, _ = make_merchant("globex")
    with app.app_context():
        theirs = Customer(merchant_id=other_id, first_name="Eve", last_name="Other",
                          custom_fields={})
        db.session.add(theirs)
        db.session.commit()
        theirs_id = theirs.id
    assert owner_client.client.get(f"/admin/customers/{theirs_id}").status_code == 404
    response = owner_client.submit(f"/admin/customers/{theirs_id}", VALID,
                                   form_url="/admin/customers/new")
    assert response.status_code == 404
    assert "Eve Other" not in owner_client.client.get("/admin/customers?q=eve").get_data(
        as_text=True)


def test_custom_field_definitions_page(app, owner_client):
    response = owner_client.submit("/admin/custom-fields", {"name": "Tier", "field_type": "choice",
                                                            "choices": "Gold, Silver, Gold"})
    assert response.status_code == 302
    duplicate = owner_client.submit("/admin/custom-fields", {"name": "tier",
                                                             "field_type": "text"})
    assert duplicate.status_code == 400
    assert "already exists" in duplicate.get_data(as_text=True)
    no_choices = owner_client.submit("/admin/custom-fields", {"name": "Size",
                                                              "field_type": "choice"})
    assert "at least one choice" in no_choices.get_data(as_text=True)
    with app.app_context():
        [tier] = field_service.list_definitions(db.session.get(Merchant, owner_client.merchant_id))
        assert tier.choices == ["Gold", "Silver"]
        tier_id = tier.id
    page = owner_client.client.get("/admin/custom-fields").get_data(as_text=True)
    assert "Gold, Silver" in page
    confirm = owner_client.client.get(f"/admin/custom-fields/{tier_id}/delete")
    assert "This cannot be undone" in confirm.get_data(as_text=True)
    owner_client.submit(f"/admin/custom-fields/{tier_id}/delete", {})
    with app.app_context():
        assert field_service.list_definitions(
            db.session.get(Merchant, owner_client.merchant_id)) == []


def test_profile_customer_tab_offers_a_mode_per_custom_field(app, owner_client, definitions):
    owner_client.submit("/admin/profiles/new", {"name": "Retail", "slug": "retail"})
    with app.app_context():
        from widget_server.profiles.models import SelfServiceProfile

        pid = db.session.scalar(select(SelfServiceProfile.id))
    url = f"/admin/profiles/{pid}/tabs/customer"
    page = owner_client.client.get(url).get_data(as_text=True)
    for name in ("Region", "Seats", "Renewal"):
        assert f'<label for="custom_field_{definitions[name]}">{name}</label>' in page
    response = owner_client.submit(url, {"show_navigation_bar": "y",
                                         f"custom_field_{definitions['Region']}": "hidden",
                                         f"custom_field_{definitions['Seats']}": "read_write",
                                         f"custom_field_{definitions['Renewal']}": "read_only"})
    assert response.status_code == 302
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, pid)
        assert profile.customer.custom_field_parameters == {
            str(definitions["Region"]): "hidden", str(definitions["Seats"]): "read_write",
            str(definitions["Renewal"]): "read_only"}


def test_admin_edits_a_yes_no_field_and_it_round_trips(app, owner_client):
    """Issue #18 (7): the admin's yes/no custom field is a checkbox, and what is saved is what
    the next edit shows."""
    with app.app_context():
        merchant = db.session.get(Merchant, owner_client.merchant_id)
        vip = field_service.create_definition(merchant, name="VIP", field_type="boolean",
                                              required=False, choices=[]).id
        db.session.commit()
    response = owner_client.submit("/admin/customers/new", {**VALID, f"cf_{vip}": "y"})
    assert response.status_code == 302
    [customer] = _customers(app)
    assert customer.custom_fields == {str(vip): True}
    url = f"/admin/customers/{customer.id}"
    page = owner_client.client.get(url).get_data(as_text=True)
    assert f'checked id="cf_{vip}" name="cf_{vip}" type="checkbox"' in page
    assert owner_client.submit(url, VALID).status_code == 302  # unticked: sends nothing
    [customer] = _customers(app)
    assert customer.custom_fields == {str(vip): False}
    page = owner_client.client.get(url).get_data(as_text=True)
    assert f'id="cf_{vip}" name="cf_{vip}" type="checkbox"' in page
    assert f'checked id="cf_{vip}"' not in page
    refused = owner_client.submit(url, {**VALID, f"cf_{vip}": "False"})
    assert refused.status_code == 400
    assert f'id="cf_{vip}-error"' in refused.get_data(as_text=True)
    [customer] = _customers(app)
    assert customer.custom_fields == {str(vip): False}
