"""Crafted requests get clear answers, never a 500 (review findings on the foundation)."""
import pytest

from tests.conftest import csrf_from
from widget_server.core.extensions import db
from widget_server.customers import fields as field_service
from widget_server.profiles import services as profile_services
from widget_server.profiles.tabs import CUSTOMER
from widget_server.tenancy.models import Merchant

HUGE = "9" * 30


@pytest.mark.parametrize("url", [f"/admin/profiles/{HUGE}", f"/admin/customers/{HUGE}",
                                 f"/admin/profiles/{HUGE}/tabs/payment", "/admin/profiles/-1",
                                 f"/admin/custom-fields/{HUGE}/delete"])
def test_huge_or_negative_ids_are_404(owner_client, url):
    assert owner_client.client.get(url).status_code == 404


def test_huge_page_number_is_clamped(owner_client):
    assert owner_client.client.get(f"/admin/customers?page={HUGE}").status_code == 200


def test_nul_bytes_are_refused_with_a_message(owner_client):
    response = owner_client.submit("/admin/profiles/new", {"name": "Bad\x00name",
                                                           "slug": "bad"})
    assert response.status_code == 400
    assert "control characters" in response.get_data(as_text=True)
    assert owner_client.client.get("/admin/customers?q=a%00b").status_code == 400


def test_line_breaks_in_next_do_not_reach_the_location_header(client, make_merchant):
    _, email = make_merchant("acme")
    url = "/admin/login?next=/admin/%0D%0ASet-Cookie:x=1"
    page = client.get(url)
    response = client.post(url, data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                      "email": email, "password": "owner-pass-123"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


@pytest.mark.parametrize("origin", ["https://a.com;script-src", "https://*.x.com",
                                    "https://a.com sandbox", "https://exa_mple..com",
                                    "http://127.5.5.5"])
def test_origins_that_could_bend_the_csp_are_refused(app, owner_client, origin):
    response = owner_client.submit("/admin/configuration/embedding", {"allowed_origins": origin})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Merchant, owner_client.merchant_id).config == {}


def test_blank_merchant_name_is_refused(app, owner_client):
    response = owner_client.submit("/admin/configuration", {
        "name": "   ", "currency": "USD", "locale": "en_US", "timezone": "UTC"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Merchant, owner_client.merchant_id).name == "Acme"


def test_currency_is_fixed_once_billing_rows_exist(app, owner_client):
    from widget_server.catalogue.models import Product

    with app.app_context():
        db.session.add(Product(merchant_id=owner_client.merchant_id, sku="A", name="A",
                               unit_price_minor=100, currency="USD"))
        db.session.commit()
    response = owner_client.submit("/admin/configuration", {
        "name": "Acme", "currency": "EUR", "locale": "en_US", "timezone": "UTC"})
    assert response.status_code == 400
    assert "The currency stays USD" in response.get_data(as_text=True)
    test_currency = owner_client.submit("/admin/configuration", {
        "name": "Acme", "currency": "XXX", "locale": "en_US", "timezone": "UTC"})
    assert 'id="currency-error"' in test_currency.get_data(as_text=True)


def test_skip_login_needs_guest_payment(owner_client):
    response = owner_client.submit("/admin/configuration/portal", {
        "enable_customer_portal": "y", "skip_login_screen": "y"})
    assert response.status_code == 400
    assert "needs “Allow guest invoice payment”" in response.get_data(as_text=True)


def test_a_new_custom_field_never_inherits_a_deleted_ones_mode(app, owner_client):
    with app.app_context():
        merchant = db.session.get(Merchant, owner_client.merchant_id)
        tier = field_service.create_definition(merchant, name="Tier", field_type="text",
                                               required=False, choices=[])
        db.session.commit()
        profile = profile_services.create_profile(merchant, "Retail", "retail")
        db.session.commit()
        profile_services.save_tab(profile, CUSTOMER, {**CUSTOMER.load(None),
                                                      "custom_field_parameters":
                                                          {str(tier.id): "hidden"}})
        db.session.commit()
        old_id = tier.id
        field_service.delete_definition(tier)
        db.session.commit()
        notes = field_service.create_definition(merchant, name="Notes", field_type="text",
                                                required=False, choices=[])
        db.session.commit()
        assert notes.id != old_id
        ctx = profile_services.settings_context(merchant)
        db.session.commit()
        modes = CUSTOMER.load(profile.settings["customer"], ctx)["custom_field_parameters"]
        assert modes == {str(notes.id): "read_only"}


def test_required_yes_no_field_is_refused(owner_client):
    response = owner_client.submit("/admin/custom-fields", {"name": "VIP", "field_type": "boolean",
                                                            "required": "y"})
    assert response.status_code == 400
    assert "cannot be required" in response.get_data(as_text=True)


@pytest.mark.parametrize(("target", "prefix", "ok"), [
    ("/admin/profiles", "/admin", True), ("//evil.example/admin", "/admin", False),
    ("/admin\\@evil", "/admin", False), ("https://evil.example/admin", "/admin", False),
    ("/p/acme/pay/x", "/p/", True), ("/p/acme\r\nSet-Cookie: x", "/p/", False),
    ("", "/", False), (None, "/", False),
])
def test_only_local_paths_follow_a_sign_in(target, prefix, ok):
    from widget_server.core.validation import local_path

    assert local_path(target, prefix) is ok


@pytest.mark.parametrize("path", ["/invoices/9999999999", "/invoices/9999999999.pdf",
                                  "/invoices?before=9999999999", "/payments?before=9999999999",
                                  "/methods/9999999999/remove"])
def test_ids_beyond_32_bits_are_an_answer_not_a_500(app, billed, path):
    """PostgreSQL's INTEGER ids end at 2**31 - 1; bigger ones in URLs are not found."""
    if path.endswith("/remove"):
        page = billed.client.get(f"{billed.base}/methods").get_data(as_text=True)
        response = billed.client.post(f"{billed.base}{path}",
                                      data={"csrf_token": csrf_from(page)})
    else:
        response = billed.client.get(f"{billed.base}{path}")
    assert response.status_code in (200, 404)


def test_admin_ids_beyond_32_bits_are_404(owner_client):
    assert owner_client.client.get("/admin/customers/9999999999").status_code == 404
