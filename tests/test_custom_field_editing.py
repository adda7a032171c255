"""Editing custom field definitions (#24 item 4, T-5): a renamed field keeps its values (they
are keyed by the field's id), the order set by Up/Down buttons is the order of the admin's
customer form and the customer's profile page, a field made required is asked for at the next
save while customers without a value keep working, and the type changes only while no customer
has a value (said beside the field)."""
import pytest

from tests.conftest import Browserish, csrf_from, widget_login
from widget_server.core.domain import DomainError
from widget_server.core.extensions import db
from widget_server.customers import fields as field_service
from widget_server.customers.models import Customer, CustomFieldDefinition
from widget_server.profiles.models import SelfServiceProfile
from widget_server.tenancy.models import Merchant


@pytest.fixture
def me(app, portal):
    """Jane with a Tier value; Region, Tier and Plan shown read-write on her profile page."""
    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        ids = {}
        for name, kind, choices in (("Region", "text", []), ("Tier", "text", []),
                                    ("Plan", "choice", ["Basic", "Pro"])):
            ids[name] = field_service.create_definition(
                merchant, name=name, field_type=kind, required=False, choices=choices).id
        customer = db.session.get(Customer, p.customer_id)
        customer.custom_fields = {str(ids["Tier"]): "Gold", str(ids["Plan"]): "Pro"}
        profile = db.session.get(SelfServiceProfile, p.profile_id)
        profile.settings = {"customer": {"allow_profile_edit": True, "custom_field_parameters": {
            str(i): "read_write" for i in ids.values()}}}
        db.session.commit()
    p.ids = ids
    p.admin = Browserish(app.test_client())
    assert p.admin.login("owner@acme.test", "owner-pass-123").status_code == 302
    p.client = app.test_client()
    widget_login(p.client, p.base, p.username, p.password)
    return p


def _edit(p, name, data):
    return p.admin.submit(f"/admin/custom-fields/{p.ids[name]}", data)


def _order(html, *names):
    return sorted(names, key=html.index)


def test_renamed_field_keeps_its_values_everywhere(app, me):
    response = _edit(me, "Tier", {"name": "Support level", "field_type": "text"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Customer, me.customer_id).custom_fields[
            str(me.ids["Tier"])] == "Gold"
    widget = me.client.get(f"{me.base}/profile").get_data(as_text=True)
    assert "Support level" in widget and "Tier" not in widget and 'value="Gold"' in widget
    admin = me.admin.client.get(f"/admin/customers/{me.customer_id}").get_data(as_text=True)
    assert "Support level" in admin and 'value="Gold"' in admin
    # the name stays unique among the merchant's fields
    taken = _edit(me, "Region", {"name": "support LEVEL", "field_type": "text"})
    assert taken.status_code == 400 and "already exists" in taken.get_data(as_text=True)


def test_up_and_down_set_the_order_of_every_face(app, me):
    page = me.admin.client.get("/admin/custom-fields").get_data(as_text=True)
    assert "Move Region up" not in page and "Move Plan down" not in page  # nothing to move past
    assert _order(page, "Move Region down", "Move Tier up") == ["Move Region down",
                                                                  "Move Tier up"]
    response = me.admin.submit(f"/admin/custom-fields/{me.ids['Plan']}/up", {},
                               form_url="/admin/custom-fields")
    assert response.status_code == 302
    # back to the list with the moved field's button focused (autofocus, no #fragment)
    assert response.headers["Location"].endswith(f"?moved={me.ids['Plan']}&way=up")
    me.admin.submit(f"/admin/custom-fields/{me.ids['Plan']}/up", {},
                    form_url="/admin/custom-fields")
    me.admin.submit(f"/admin/custom-fields/{me.ids['Region']}/down", {},
                    form_url="/admin/custom-fields")
    expected = ["Plan", "Tier", "Region"]
    listing = me.admin.client.get("/admin/custom-fields").get_data(as_text=True)
    assert _order(listing, ">Region<", ">Tier<", ">Plan<") == [f">{n}<" for n in expected]
    form = me.admin.client.get(f"/admin/customers/{me.customer_id}").get_data(as_text=True)
    assert _order(form, *(f"cf_{me.ids[n]}" for n in expected)) == [
        f"cf_{me.ids[n]}" for n in expected]
    widget = me.client.get(f"{me.base}/profile").get_data(as_text=True)
    assert _order(widget, *(f"cf_{me.ids[n]}" for n in expected)) == [
        f"cf_{me.ids[n]}" for n in expected]
    # moving the first one up changes nothing; a crafted direction is no route
    me.admin.submit(f"/admin/custom-fields/{me.ids['Plan']}/up", {},
                    form_url="/admin/custom-fields")
    with app.app_context():
        merchant = db.session.get(Merchant, me.merchant_id)
        assert [d.name for d in field_service.list_definitions(merchant)] == expected
    token = csrf_from(listing)
    assert me.admin.client.post(f"/admin/custom-fields/{me.ids['Plan']}/sideways",
                                data={"csrf_token": token}).status_code == 404
    assert me.admin.client.post(f"/admin/custom-fields/{me.ids['Plan']}/down",
                                data={}).status_code == 400  # no CSRF token


def test_made_required_it_is_asked_for_next_time_and_nobody_is_broken(app, me):
    response = _edit(me, "Region", {"name": "Region", "field_type": "text", "required": "y"})
    assert response.status_code == 302
    page = me.admin.client.get(f"/admin/custom-fields/{me.ids['Region']}").get_data(
        as_text=True)
    assert "asked for at each customer&#39;s next save" in page
    # Jane has no Region: she still signs in and sees her profile page
    assert me.client.get(f"{me.base}/profile").status_code == 200
    fresh = me.client.__class__(app)
    assert widget_login(fresh, me.base, me.username, me.password).status_code == 302
    # saving her without one asks for it, on either face
    data = {"first_name": "Jane", "last_name": "Doe", "primary_email": "jane@example.test"}
    refused = me.admin.submit(f"/admin/customers/{me.customer_id}", data)
    assert refused.status_code == 400 and "Region is required." in refused.get_data(as_text=True)
    ok = me.admin.submit(f"/admin/customers/{me.customer_id}",
                         {**data, f"cf_{me.ids['Region']}": "North"})
    assert ok.status_code == 302


def test_type_changes_only_while_no_customer_has_a_value(app, me):
    # Region: nobody has a value, so it may become a number
    assert _edit(me, "Region", {"name": "Region", "field_type": "number"}).status_code == 302
    # Tier: Jane has "Gold"; the form says why beside the field, and offers the type alone
    page = me.admin.client.get(f"/admin/custom-fields/{me.ids['Tier']}").get_data(as_text=True)
    assert "The type cannot change: 1 customer has a value for this field." in page
    assert 'value="number"' not in page.split('id="field_type"')[1].split("</select>")[0]
    crafted = _edit(me, "Tier", {"name": "Tier", "field_type": "date"})
    assert crafted.status_code == 400
    with app.app_context():
        merchant = db.session.get(Merchant, me.merchant_id)
        tier = db.session.get(CustomFieldDefinition, me.ids["Tier"])
        assert tier.field_type == "text"
        with pytest.raises(DomainError, match="The type stays “Text”: 1 customer has a value"):
            field_service.update_definition(merchant, tier, name="Tier", field_type="date",
                                            required=False, choices=[])
        db.session.rollback()
        # a yes/no "no" is a value too
        flag = field_service.create_definition(merchant, name="Flag", field_type="boolean",
                                               required=False, choices=[])
        assert field_service.customers_with_value(flag) == 0
        db.session.get(Customer, me.customer_id).custom_fields = {str(flag.id): False}
        db.session.flush()
        assert field_service.customers_with_value(flag) == 1
        db.session.rollback()


def test_a_choice_a_customer_holds_stays_in_the_list(app, me):
    refused = _edit(me, "Plan", {"name": "Plan", "field_type": "choice", "choices": "Basic"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Customers hold “Pro”" in body
    assert _edit(me, "Plan", {"name": "Plan", "field_type": "choice",
                              "choices": "Pro, Enterprise"}).status_code == 302
    with app.app_context():
        assert db.session.get(CustomFieldDefinition, me.ids["Plan"]).choices == [
            "Pro", "Enterprise"]


def test_editing_needs_the_permission_and_the_merchant(app, me, make_merchant, make_admin):
    other_id, _ = make_merchant("globex")
    with app.app_context():
        theirs = field_service.create_definition(db.session.get(Merchant, other_id),
                                                 name="Secret", field_type="text",
                                                 required=False, choices=[]).id
        db.session.commit()
    assert me.admin.client.get(f"/admin/custom-fields/{theirs}").status_code == 404
    make_admin(me.merchant_id, "viewer@acme.test", role="staff")
    staff = Browserish(app.test_client())
    staff.login("viewer@acme.test", "staff-pass-123")
    assert staff.client.get(f"/admin/custom-fields/{me.ids['Tier']}").status_code == 200
