"""Admin users and roles (T-2): owners manage them; permissions are enforced and shown."""
from sqlalchemy import select

from widget_server.core.extensions import db
from widget_server.tenancy.models import AdminUser


def _admin(app, email):
    with app.app_context():
        admin = db.session.scalar(select(AdminUser).where(AdminUser.email == email))
        db.session.expunge(admin)
        return admin


def test_owner_adds_a_staff_user_who_can_sign_in(app, owner_client):
    response = owner_client.submit("/admin/users", {"email": "Sam@Acme.test", "name": "Sam",
                                                    "role": "staff",
                                                    "password": "a-long-password-1"})
    assert response.status_code == 302
    sam = _admin(app, "sam@acme.test")
    assert (sam.role, sam.merchant_id) == ("staff", owner_client.merchant_id)
    other = app.test_client()
    from tests.conftest import Browserish

    assert Browserish(other).login("sam@acme.test", "a-long-password-1").status_code == 302
    assert other.get("/admin/customers").status_code == 200
    assert other.get("/admin/users").status_code == 403


def test_role_matrix_is_shown(owner_client):
    page = owner_client.client.get("/admin/users").get_data(as_text=True)
    assert "Manage self-service profiles" in page and "Send portal invitations" in page


def test_duplicate_or_bad_admin_input_is_refused(app, owner_client, make_merchant):
    _, other_email = make_merchant("globex")
    taken = owner_client.submit("/admin/users", {"email": other_email, "role": "staff",
                                                 "password": "a-long-password-1"})
    assert taken.status_code == 400
    assert "cannot be used for a new admin account" in taken.get_data(as_text=True)
    assert "Globex" not in taken.get_data(as_text=True)  # the other merchant is never named
    short = owner_client.submit("/admin/users", {"email": "x@acme.test", "role": "staff",
                                                 "password": "short"})
    assert "Use 12 to 1024 characters." in short.get_data(as_text=True)
    crafted = owner_client.submit("/admin/users", {"email": "y@acme.test", "role": "superuser",
                                                   "password": "a-long-password-1"})
    assert crafted.status_code == 400 and 'id="role-error"' in crafted.get_data(as_text=True)


def test_deactivating_an_admin_ends_their_session(app, owner_client, make_admin):
    make_admin(owner_client.merchant_id, "sam@acme.test", role="admin")
    sam_client = app.test_client()
    from tests.conftest import Browserish

    Browserish(sam_client).login("sam@acme.test", "staff-pass-123")
    assert sam_client.get("/admin/profiles").status_code == 200
    sam = _admin(app, "sam@acme.test")
    owner_client.submit(f"/admin/users/{sam.id}", {f"u{sam.id}-role": "staff",
                                                   f"u{sam.id}-active": "0"},
                        form_url="/admin/users")
    sam = _admin(app, "sam@acme.test")
    assert (sam.role, sam.active) == ("staff", False)
    assert sam_client.get("/admin/profiles").status_code == 302  # signed out


def test_owner_cannot_demote_themselves(app, owner_client):
    me = _admin(app, "owner@acme.test")
    response = owner_client.submit(f"/admin/users/{me.id}", {f"u{me.id}-role": "staff",
                                                             f"u{me.id}-active": "1"},
                                   form_url="/admin/users", follow=True)
    assert "cannot change your own role" in response.get_data(as_text=True)
    assert _admin(app, "owner@acme.test").role == "owner"


def test_other_merchants_admin_is_404(app, owner_client, make_merchant):
    make_merchant("globex")
    theirs = _admin(app, "owner@globex.test")
    response = owner_client.submit(f"/admin/users/{theirs.id}", {
        f"u{theirs.id}-role": "staff", f"u{theirs.id}-active": "0"}, form_url="/admin/users")
    assert response.status_code == 404
    assert _admin(app, "owner@globex.test").active
