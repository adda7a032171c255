"""Profiles in the admin through Flask's test client: create, edit tabs, bad input, isolation."""
import html

import pytest
from sqlalchemy import select

from widget_server.core.extensions import db
from widget_server.profiles import services
from widget_server.profiles.models import SelfServiceProfile
from widget_server.tenancy.models import Merchant


def _profile(app, profile_id):
    with app.app_context():
        return db.session.get(SelfServiceProfile, profile_id)


def _create(owner_client, name="Retail", slug="retail"):
    return owner_client.submit("/admin/profiles/new", {"name": name, "slug": slug})


def test_create_profile_first_one_becomes_default(app, owner_client):
    response = _create(owner_client)
    assert response.status_code == 302
    with app.app_context():
        profile = db.session.scalar(select(SelfServiceProfile))
        assert (profile.name, profile.slug, profile.enabled, profile.is_default) == (
            "Retail", "retail", True, True)
    page = html.unescape(owner_client.client.get(response.headers["Location"]).get_data(
        as_text=True))
    assert 'data-merchant="acme" data-profile="retail"' in page
    assert "Profile “Retail” created." in page


@pytest.mark.parametrize(("slug", "message"), [
    ("Retail Shop", "lower-case letters, digits and hyphens"),
    ("-retail", "lower-case letters"),
    ("a" * 64, "63"),
    ("", "This field is required."),
])
def test_malformed_profile_id_is_refused_next_to_the_field(app, owner_client, slug, message):
    response = _create(owner_client, slug=slug)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="slug-error"' in page and message in page
    assert "nothing was saved" in page
    with app.app_context():
        assert db.session.scalar(select(SelfServiceProfile)) is None


def test_duplicate_profile_id_is_refused(app, owner_client):
    _create(owner_client)
    response = _create(owner_client, name="Another")
    assert response.status_code == 400
    assert "The Profile ID “retail” is already used" in response.get_data(as_text=True)


def test_same_profile_id_at_another_merchant_is_fine(app, owner_client, make_merchant):
    other_id, _ = make_merchant("globex")
    with app.app_context():
        services.create_profile(db.session.get(Merchant, other_id), "Retail", "retail")
        db.session.commit()
    assert _create(owner_client).status_code == 302


def test_disable_enable_and_default_rules(app, owner_client):
    _create(owner_client)
    _create(owner_client, "Wholesale", "wholesale")
    with app.app_context():
        retail, wholesale = db.session.scalars(
            select(SelfServiceProfile).order_by(SelfServiceProfile.id)).all()
    detail = f"/admin/profiles/{retail.id}"
    refused = owner_client.submit(f"{detail}/disable", {}, form_url=detail, follow=True)
    assert "cannot be disabled" in refused.get_data(as_text=True)
    assert _profile(app, retail.id).enabled

    wdetail = f"/admin/profiles/{wholesale.id}"
    owner_client.submit(f"{wdetail}/make-default", {}, form_url=wdetail)
    assert _profile(app, wholesale.id).is_default and not _profile(app, retail.id).is_default
    owner_client.submit(f"{detail}/disable", {}, form_url=detail)
    assert not _profile(app, retail.id).enabled
    owner_client.submit(f"{detail}/enable", {}, form_url=detail)
    assert _profile(app, retail.id).enabled


def test_delete_asks_for_confirmation_then_deletes(app, owner_client):
    _create(owner_client)
    _create(owner_client, "Wholesale", "wholesale")
    with app.app_context():
        wholesale = services.find_by_slug(db.session.get(Merchant, owner_client.merchant_id),
                                          "wholesale")
    url = f"/admin/profiles/{wholesale.id}/delete"
    confirm = owner_client.client.get(url)
    assert confirm.status_code == 200
    assert "This cannot be undone" in confirm.get_data(as_text=True)
    assert _profile(app, wholesale.id) is not None  # a GET deletes nothing
    assert owner_client.submit(url, {}).status_code == 302
    assert _profile(app, wholesale.id) is None


def test_default_profile_cannot_be_deleted(app, owner_client):
    _create(owner_client)
    with app.app_context():
        retail = db.session.scalar(select(SelfServiceProfile))
    response = owner_client.submit(f"/admin/profiles/{retail.id}/delete", {}, follow=True)
    assert "cannot be deleted" in response.get_data(as_text=True)
    assert _profile(app, retail.id) is not None


def test_tab_save_keeps_other_tabs(app, owner_client):
    _create(owner_client)
    with app.app_context():
        pid = db.session.scalar(select(SelfServiceProfile.id))
    owner_client.submit(f"/admin/profiles/{pid}/tabs/order", {"allow_new_order": "y",
                                                         "cancel_mode": "period_end"})
    response = owner_client.submit(f"/admin/profiles/{pid}/tabs/invoice",
                                   {"show_invoices": "y", "enable_pdf_mode_only": "y"})
    assert response.status_code == 302
    profile = _profile(app, pid)
    assert profile.order.allow_new_order is True
    assert profile.order.allow_cancel_order is False
    assert profile.invoice.enable_pdf_mode_only is True
    assert profile.invoice.allow_new_invoice is False


@pytest.mark.parametrize(("tab", "data", "field", "message"), [
    ("payment", {"payment_methods": "card", "payment_amount": "balance",
                 "invoice_choice": "select", "card_ach_mode": "optional_save",
                 "success_url": "http://shop.example.com/done"}, "success_url", "https://"),
    ("payment", {"payment_methods": "card", "payment_amount": "all-of-it",
                 "invoice_choice": "select", "card_ach_mode": "optional_save"},
     "payment_amount", "Not a valid choice"),
    ("cart", {"cart_stylesheet_url": "ftp://shop.example.com/cart.css"}, "cart_stylesheet_url",
     "complete URL"),
    ("global", {"theme": "default", "primary_color": "#ffff00", "text_color": "#1b1f24",
                "background_color": "#ffffff", "font": "system",
                "forgot_password_url": "https://x.example/reset"}, "primary_color", "contrast"),
    ("global", {"theme": "neon", "primary_color": "#0b5cad", "text_color": "#1b1f24",
                "background_color": "#ffffff", "font": "system"}, "theme", "Not a valid choice"),
    ("global", {"theme": "default", "primary_color": "blue", "text_color": "#1b1f24",
                "background_color": "#ffffff", "font": "system"}, "primary_color",
     "Use a colour like"),
])
def test_bad_tab_input_saves_nothing(app, owner_client, tab, data, field, message):
    _create(owner_client)
    with app.app_context():
        pid = db.session.scalar(select(SelfServiceProfile.id))
    response = owner_client.submit(f"/admin/profiles/{pid}/tabs/{tab}",
                                   {**data, "show_proposals": "y", "allow_payments": ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    assert _profile(app, pid).settings == {}


def test_crafted_extra_fields_are_ignored(app, owner_client):
    _create(owner_client)
    with app.app_context():
        pid = db.session.scalar(select(SelfServiceProfile.id))
    owner_client.submit(f"/admin/profiles/{pid}/tabs/order",
                        {"allow_new_order": "y", "cancel_mode": "period_end",
                         "is_default": "0", "merchant_id": "999", "evil": "x" * 10})
    profile = _profile(app, pid)
    assert profile.settings == {"order": {"allow_new_order": True, "allow_cancel_order": False,
                                          "cancel_mode": "period_end",
                                          "allow_add_sales_agent": False,
                                          "allow_plan_change": False}}
    assert profile.merchant_id == owner_client.merchant_id and profile.is_default


def test_unknown_tab_is_404(app, owner_client):
    _create(owner_client)
    with app.app_context():
        pid = db.session.scalar(select(SelfServiceProfile.id))
    assert owner_client.client.get(f"/admin/profiles/{pid}/tabs/billing").status_code == 404


def test_other_merchants_profile_is_404(app, owner_client, make_merchant):
    other_id, _ = make_merchant("globex")
    with app.app_context():
        theirs = services.create_profile(db.session.get(Merchant, other_id), "Theirs", "theirs").id
        db.session.commit()
    for url in (f"/admin/profiles/{theirs}", f"/admin/profiles/{theirs}/tabs/payment",
                f"/admin/profiles/{theirs}/delete"):
        assert owner_client.client.get(url).status_code == 404, url
    token_page = owner_client.client.get("/admin/profiles/new").get_data(as_text=True)
    from tests.conftest import csrf_from

    response = owner_client.client.post(f"/admin/profiles/{theirs}/disable",
                                        data={"csrf_token": csrf_from(token_page)})
    assert response.status_code == 404
    assert _profile(app, theirs).enabled


def test_staff_without_profile_permission_gets_403_and_no_menu(app, client, browser_like,
                                                                make_merchant, make_admin):
    merchant_id, _ = make_merchant("acme")
    email = make_admin(merchant_id, "staff@acme.test", role="staff")
    browser_like.login(email, "staff-pass-123")
    assert client.get("/admin/profiles").status_code == 403
    assert client.get("/admin/profiles/new").status_code == 403
    assert client.get("/admin/configuration").status_code == 403
    page = client.get("/admin/").get_data(as_text=True)
    assert ">Profiles<" not in page and ">Configuration<" not in page
    assert ">Customers<" in page or ">Custom fields<" in page
