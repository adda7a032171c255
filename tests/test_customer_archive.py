"""Deleting a customer (issue #18): one with money history is archived, never deleted, and
their invoices and payments stay; one without is deleted."""
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.conftest import Browserish, csrf_from, widget_login
from widget_server.billing.models import Invoice
from widget_server.core.extensions import db
from widget_server.customers import services
from widget_server.customers.models import Customer, CustomerEmail
from widget_server.tenancy.models import Merchant


def _admin(app):
    admin = Browserish(app.test_client())
    assert admin.login("owner@acme.test", "owner-pass-123").status_code == 302
    return admin


def _delete(admin, customer_id):
    return admin.submit(f"/admin/customers/{customer_id}/delete", {},
                        form_url=f"/admin/customers/{customer_id}")


def test_a_customer_with_invoices_is_archived_not_deleted(app, billed):
    admin = _admin(app)
    response = _delete(admin, billed.customer_id)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/customers/{billed.customer_id}")
    page = admin.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "archived" in page and "Archived" in page
    with app.app_context():
        customer = db.session.get(Customer, billed.customer_id)
        assert customer is not None and customer.archived_at is not None
        assert db.session.scalar(select(func.count(Invoice.id)).where(
            Invoice.customer_id == billed.customer_id)) == 2
    # out of the default list, in the archived one
    assert "Jane Doe" not in admin.client.get("/admin/customers").get_data(as_text=True)
    archived = admin.client.get("/admin/customers?archived=1").get_data(as_text=True)
    assert "Jane Doe" in archived
    # the open widget session is over, and signing in again fails
    signed_in = billed.client.get(f"{billed.base}/invoices")
    assert signed_in.status_code == 302 and "/login" in signed_in.headers["Location"]
    again = widget_login(app.test_client(), billed.base, billed.username, billed.password)
    assert again.status_code != 302


def test_a_customer_without_money_history_is_deleted(app, portal):
    p = portal()
    admin = _admin(app)
    response = _delete(admin, p.customer_id)
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/admin/customers")
    with app.app_context():
        assert db.session.get(Customer, p.customer_id) is None
        assert db.session.scalar(select(func.count(CustomerEmail.id))) == 0


def test_delete_needs_the_form_token_and_stays_within_the_merchant(app, billed, make_merchant):
    make_merchant("other")
    other = Browserish(app.test_client())
    assert other.login("owner@other.test", "owner-pass-123").status_code == 302
    page = other.client.get("/admin/customers")
    token = csrf_from(page.get_data(as_text=True))
    assert other.client.post(f"/admin/customers/{billed.customer_id}/delete",
                             data={"csrf_token": token}).status_code == 404
    admin = _admin(app)
    assert admin.client.post(f"/admin/customers/{billed.customer_id}/delete").status_code == 400
    with app.app_context():
        assert db.session.get(Customer, billed.customer_id).archived_at is None


def test_the_database_refuses_to_delete_a_customer_with_invoices(ctx, billed, monkeypatch):
    """ON DELETE RESTRICT, on SQLite and PostgreSQL: were the history check to miss an invoice
    (one made a moment ago), the delete fails and the customer is archived instead."""
    customer = db.session.get(Customer, billed.customer_id)
    with pytest.raises(IntegrityError):
        db.session.delete(customer)
        db.session.commit()
    db.session.rollback()
    monkeypatch.setattr(services, "has_money_history", lambda customer: False)
    customer = services.get_customer(db.session.get(Merchant, billed.merchant_id),
                                     billed.customer_id)
    assert services.delete_customer(customer) == "archived"
    db.session.expire_all()
    assert db.session.get(Customer, billed.customer_id).archived_at is not None
    assert db.session.scalar(select(func.count(Invoice.id))) == 2
