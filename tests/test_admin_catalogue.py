"""The catalogue in the admin (issue #21 item 1): create, edit, archive and restore products;
the rules (SKU unique per merchant, price, tax rate, billing) refused next to their field; CSRF;
another merchant's product is a 404."""
import pytest
from sqlalchemy import select

from widget_server.catalogue import services as catalogue
from widget_server.catalogue.models import Product
from widget_server.core.domain import DomainError
from widget_server.core.extensions import db
from widget_server.tenancy.models import Merchant

VALID = {"sku": "TENT-2", "name": "Two-person tent", "description": "Light.\nWaterproof.",
         "price": "129.90", "tax_rate": "19", "billing": "once", "interval": "month",
         "interval_count": "1", "active": "y"}


def _products(app, merchant_id=None):
    with app.app_context():
        stmt = select(Product).order_by(Product.id)
        if merchant_id is not None:
            stmt = stmt.where(Product.merchant_id == merchant_id)
        rows = db.session.scalars(stmt).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _make_product(app, merchant_id, sku="SKU-1", **fields):
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        product = catalogue.save_product(merchant, None, catalogue.ProductValues(
            sku=sku, name=fields.get("name", "Widget"), description="",
            price_minor=fields.get("price_minor", 1000), tax_rate_bp=fields.get("rate", 0),
            interval=fields.get("interval"), interval_count=fields.get("count", 1)))
        db.session.commit()
        return product.id


def test_the_catalogue_is_in_the_admin_menu(owner_client):
    page = owner_client.client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/products"' in page


def test_create_a_one_time_product(app, owner_client):
    response = owner_client.submit("/admin/products/new", VALID)
    assert response.status_code == 302, response.get_data(as_text=True)
    [product] = _products(app)
    assert (product.sku, product.name, product.unit_price_minor, product.currency,
            product.tax_rate_bp, product.interval, product.active) == (
        "TENT-2", "Two-person tent", 12990, "USD", 1900, None, True)
    assert product.description == "Light.\nWaterproof."
    listing = owner_client.client.get("/admin/products").get_data(as_text=True)
    assert "Two-person tent" in listing and "$129.90" in listing and "19 %" in listing
    assert "One-time" in listing


def test_create_a_recurring_product_with_a_fractional_rate(app, owner_client):
    response = owner_client.submit("/admin/products/new", {
        **VALID, "billing": "recurring", "interval": "week", "interval_count": "2",
        "tax_rate": "5,5", "price": "9,99"})
    assert response.status_code == 302, response.get_data(as_text=True)
    [product] = _products(app)
    assert (product.unit_price_minor, product.tax_rate_bp, product.interval,
            product.interval_count) == (999, 550, "week", 2)
    listing = owner_client.client.get("/admin/products").get_data(as_text=True)
    assert "Every 2 weeks" in listing and "5.5 %" in listing


def test_edit_keeps_the_form_values_and_saves(app, owner_client):
    product_id = _make_product(app, owner_client.merchant_id, price_minor=500, rate=700,
                               interval="month", count=3)
    page = owner_client.client.get(f"/admin/products/{product_id}").get_data(as_text=True)
    assert 'value="5.00"' in page and 'value="7"' in page
    response = owner_client.submit(f"/admin/products/{product_id}", {
        **VALID, "sku": "SKU-1", "price": "6", "tax_rate": "0", "billing": "once"})
    assert response.status_code == 302, response.get_data(as_text=True)
    [product] = _products(app)
    assert (product.unit_price_minor, product.tax_rate_bp, product.interval,
            product.interval_count) == (600, 0, None, 1)


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"sku": ""}, "sku", "This field is required."),
    ({"sku": "has space"}, "sku", "A SKU is up to 64"),
    ({"name": ""}, "name", "This field is required."),
    ({"price": "-1"}, "price", "Enter the price as a number such as 12.50"),
    ({"price": "12.345"}, "price", "at most 2 decimal places"),
    ({"price": "ten"}, "price", "Enter the price as a number"),
    ({"price": "9e999999"}, "price", "Enter the price as a number"),
    ({"tax_rate": "101"}, "tax_rate", "from 0 to 100"),
    ({"tax_rate": "19.125"}, "tax_rate", "at most 2 decimal places"),
    ({"tax_rate": "-7"}, "tax_rate", "in percent"),
    ({"billing": "sometimes"}, "billing", "Not a valid choice"),
    ({"billing": "recurring", "interval": "fortnight"}, "interval", "Not a valid choice"),
    ({"billing": "recurring", "interval_count": "0"}, "interval_count", "1 and 100"),
    ({"billing": "recurring", "interval_count": "x"}, "interval_count", "integer"),
])
def test_bad_input_is_refused_next_to_the_field(app, owner_client, change, field, message):
    response = owner_client.submit("/admin/products/new", {**VALID, **change})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page, page
    assert message in page
    assert _products(app) == []


def test_a_taken_sku_is_refused_with_a_clear_message(app, owner_client, make_merchant):
    _make_product(app, owner_client.merchant_id, sku="TENT-2")
    response = owner_client.submit("/admin/products/new", VALID)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="sku-error"' in page
    assert "already used by another of your products" in page
    # another merchant may use the same SKU
    other_id, _ = make_merchant("other")
    _make_product(app, other_id, sku="TENT-2")
    assert len(_products(app)) == 2


def test_the_service_refuses_a_negative_price_and_a_taken_sku(app, owner_client):
    _make_product(app, owner_client.merchant_id, sku="A")
    with app.app_context():
        merchant = db.session.get(Merchant, owner_client.merchant_id)
        values = catalogue.ProductValues(sku="A", name="X", description="", price_minor=-1,
                                         tax_rate_bp=10001, interval="month",
                                         interval_count=0)
        with pytest.raises(DomainError) as caught:
            catalogue.save_product(merchant, None, values)
        assert set(caught.value.errors) == {"sku", "price", "tax_rate", "interval_count"}
        db.session.rollback()


def test_archive_and_restore_never_delete(app, owner_client):
    product_id = _make_product(app, owner_client.merchant_id)
    response = owner_client.submit(f"/admin/products/{product_id}/archive", {},
                                   form_url=f"/admin/products/{product_id}")
    assert response.status_code == 302
    [product] = _products(app)
    assert product.active is False
    on_sale = owner_client.client.get("/admin/products").get_data(as_text=True)
    assert ">Widget</a>" not in on_sale
    archived = owner_client.client.get("/admin/products?archived=1").get_data(as_text=True)
    assert ">Widget</a>" in archived
    with app.app_context():
        merchant = db.session.get(Merchant, owner_client.merchant_id)
        assert catalogue.active_products(merchant) == []
    page = owner_client.client.get(f"/admin/products/{product_id}").get_data(as_text=True)
    assert "Archived" in page and "Restore product" in page
    response = owner_client.submit(f"/admin/products/{product_id}/restore", {},
                                   form_url=f"/admin/products/{product_id}")
    assert response.status_code == 302
    assert _products(app)[0].active is True


def test_forms_without_a_csrf_token_are_refused(app, owner_client):
    product_id = _make_product(app, owner_client.merchant_id)
    client = owner_client.client
    assert client.post("/admin/products/new", data=VALID).status_code == 400
    assert client.post(f"/admin/products/{product_id}",
                       data={**VALID, "name": "Changed"}).status_code == 400
    assert client.post(f"/admin/products/{product_id}/archive").status_code == 400
    [product] = _products(app)
    assert (product.name, product.active) == ("Widget", True)


def test_another_merchants_product_is_not_found(app, owner_client, make_merchant):
    other_id, _ = make_merchant("other")
    theirs = _make_product(app, other_id, name="Their secret")
    client = owner_client.client
    assert client.get(f"/admin/products/{theirs}").status_code == 404
    csrf_page = client.get("/admin/products/new").get_data(as_text=True)
    from tests.conftest import csrf_from

    token = csrf_from(csrf_page)
    for url in (f"/admin/products/{theirs}", f"/admin/products/{theirs}/archive",
                f"/admin/products/{theirs}/restore"):
        assert client.post(url, data={**VALID, "csrf_token": token}).status_code == 404
    assert "Their secret" not in client.get("/admin/products").get_data(as_text=True)
    [product] = _products(app, other_id)
    assert (product.name, product.active) == ("Their secret", True)


def test_crafted_ids_and_input_never_give_a_500(app, owner_client):
    client = owner_client.client
    for url in ("/admin/products/9999999999", "/admin/products/99999999999999999999",
                "/admin/products/0", "/admin/products/-1", "/admin/products/abc"):
        assert client.get(url).status_code == 404, url
    response = owner_client.submit("/admin/products/new", {
        **VALID, "name": "Line\x00break", "price": "1" * 40, "tax_rate": "1e3"})
    assert response.status_code == 400
    assert _products(app) == []


def test_staff_manage_the_catalogue(app, owner_client, make_admin):
    from tests.conftest import Browserish

    make_admin(owner_client.merchant_id, "sam@acme.test")
    sam = Browserish(app.test_client())
    assert sam.login("sam@acme.test", "staff-pass-123").status_code == 302
    assert 'href="/admin/products"' in sam.client.get("/admin/").get_data(as_text=True)
    assert sam.submit("/admin/products/new", VALID).status_code == 302


def test_offered_in_the_shopping_cart_is_a_product_flag(app, owner_client):
    """#22 item 1: off by default; the form turns it on and off."""
    response = owner_client.submit("/admin/products/new", VALID)
    assert response.status_code == 302
    [product] = _products(app)
    assert product.in_cart is False
    page = owner_client.client.get(f"/admin/products/{product.id}").get_data(as_text=True)
    assert "Offered in the shopping cart" in page
    response = owner_client.submit(f"/admin/products/{product.id}", {**VALID, "in_cart": "y"})
    assert response.status_code == 302
    [product] = _products(app)
    assert product.in_cart is True
    assert "In cart" in owner_client.client.get("/admin/products").get_data(as_text=True)
    owner_client.submit(f"/admin/products/{product.id}", VALID)
    [product] = _products(app)
    assert product.in_cart is False
