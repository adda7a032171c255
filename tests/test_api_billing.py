"""The REST API's invoices, payments, orders and proposals (issue #25 slice b; SPEC A-1):
through the same services the admin uses, confined to the key's merchant, amounts in minor
units with their currency."""
from sqlalchemy import func, select

from widget_server.billing.models import Invoice
from widget_server.catalogue.models import Product
from widget_server.core.extensions import db
from widget_server.tenancy.audit import AuditEntry

from . import test_api
from .test_api import _error

shop = test_api.shop  # the two-merchant fixture, each with a key, customer, product, invoice


def _invoice_body(shop, quantity=2):
    return {"customer": shop.acme.customer_id,
            "lines": [{"product": shop.acme.product_id, "quantity": quantity}],
            "due_date": "2027-01-31"}


def _count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Invoice.id)))


def test_an_invoice_is_drafted_from_catalogue_lines_once_per_idempotency_key(app, client, shop):
    before = _count(app)
    headers = {**shop.acme.auth, "Idempotency-Key": "inv-1"}
    made = client.post("/api/v1/invoices", json=_invoice_body(shop), headers=headers)
    assert made.status_code == 201, made.data
    invoice = made.get_json()
    assert made.headers["Location"].endswith(f"/api/v1/invoices/{invoice['id']}")
    assert (invoice["object"], invoice["status"], invoice["currency"], invoice["total"],
            invoice["amount_due"], invoice["customer"], invoice["due_date"]) == (
        "invoice", "draft", "EUR", 2975, 2975, shop.acme.customer_id, "2027-01-31")
    assert invoice["number"].startswith("DRAFT-")
    assert invoice["created_at"].endswith("Z")
    [line] = invoice["lines"]
    assert (line["product"], line["quantity"], line["unit_amount"], line["net_amount"],
            line["tax_amount"], line["amount"], line["tax_rate_bp"]) == (
        shop.acme.product_id, 2, 1250, 2500, 475, 2975, 1900)  # prices before tax
    again = client.post("/api/v1/invoices", json=_invoice_body(shop), headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == invoice["id"]
    _error(client.post("/api/v1/invoices", json=_invoice_body(shop, 3), headers=headers), 422,
           "idempotency_key_reused")
    assert _count(app) == before + 1


def test_an_invoice_of_no_or_foreign_lines_is_refused_naming_its_field(app, client, shop):
    before = _count(app)
    auth = shop.acme.auth
    body = _invoice_body(shop)
    _error(client.post("/api/v1/invoices", json={**body, "lines": []}, headers=auth), 422,
           field="lines")
    _error(client.post("/api/v1/invoices", json={**body, "lines": [
        {"product": shop.acme.product_id, "quantity": 0}]}, headers=auth), 422,
        field="lines.0.quantity")
    _error(client.post("/api/v1/invoices", json={**body, "lines": [
        {"product": shop.other.product_id}]}, headers=auth), 400, field="lines")
    _error(client.post("/api/v1/invoices", json={**body, "customer": shop.other.customer_id},
                       headers=auth), 404, "not_found")
    _error(client.post("/api/v1/invoices", json={**body, "due_date": "soon"}, headers=auth),
           422, field="due_date")
    assert _count(app) == before


def test_an_invoice_is_issued_read_as_pdf_and_voided(app, client, shop):
    auth = shop.acme.auth
    draft = client.post("/api/v1/invoices", json=_invoice_body(shop), headers=auth).get_json()
    issued = client.post(f"/api/v1/invoices/{draft['id']}/issue", headers=auth)
    assert issued.status_code == 200, issued.data
    issued = issued.get_json()
    assert issued["status"] == "issued" and issued["number"].startswith("INV-")
    assert issued["issue_date"] and issued["due_date"] == "2027-01-31"
    # issuing twice is refused through the one error contract
    _error(client.post(f"/api/v1/invoices/{draft['id']}/issue", headers=auth), 400, "invalid")
    read = client.get(f"/api/v1/invoices/{draft['id']}", headers=auth).get_json()
    assert read == issued
    pdf = client.get(f"/api/v1/invoices/{draft['id']}/pdf", headers=auth)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF") and issued["number"] in pdf.headers[
        "Content-Disposition"]
    voided = client.post(f"/api/v1/invoices/{draft['id']}/void", headers=auth)
    assert voided.status_code == 200 and voided.get_json()["status"] == "void"
    _error(client.post(f"/api/v1/invoices/{draft['id']}/void", headers=auth), 400)
    with app.app_context():  # the audit log says which key voided it
        entry = db.session.scalar(select(AuditEntry).where(
            AuditEntry.action == "invoice.voided"))
        assert entry.admin_user_id is None and entry.detail["number"] == issued["number"]
        assert shop.acme.secret.startswith(entry.detail["via_key"])


def test_invoices_are_listed_by_customer_and_status_page_by_page(app, client, shop):
    auth = shop.acme.auth
    made = [client.post("/api/v1/invoices", json=_invoice_body(shop), headers=auth).get_json()
            for _ in range(3)]
    client.post(f"/api/v1/invoices/{made[1]['id']}/issue", headers=auth)
    every = [shop.acme.invoice_id] + [m["id"] for m in made]
    first = client.get("/api/v1/invoices?limit=2", headers=auth).get_json()
    assert first["object"] == "list" and first["has_more"] is True
    assert [i["id"] for i in first["data"]] == every[:2]
    rest = client.get(f"/api/v1/invoices?limit=2&starting_after={every[1]}",
                      headers=auth).get_json()
    assert [i["id"] for i in rest["data"]] == every[2:] and rest["has_more"] is False
    issued = client.get("/api/v1/invoices?status=issued", headers=auth).get_json()["data"]
    assert [i["id"] for i in issued] == [made[1]["id"]]
    mine = client.get(f"/api/v1/invoices?customer={shop.acme.customer_id}&status=draft",
                      headers=auth).get_json()["data"]
    assert [i["id"] for i in mine] == [every[0], every[1], every[3]]
    _error(client.get("/api/v1/invoices?status=open", headers=auth), 422, field="status")


# --- payments ----------------------------------------------------------------------------


def _issued(client, shop, quantity=2):
    draft = client.post("/api/v1/invoices", json=_invoice_body(shop, quantity),
                        headers=shop.acme.auth).get_json()
    return client.post(f"/api/v1/invoices/{draft['id']}/issue",
                       headers=shop.acme.auth).get_json()


def test_an_offline_payment_settles_the_chosen_invoices_once_per_key(app, client, shop):
    invoice = _issued(client, shop)  # 2975
    body = {"customer": shop.acme.customer_id, "amount": 3000, "method": "transfer",
            "reference": "SEPA 4711", "received_on": "2026-11-28", "invoices": [invoice["id"]]}
    headers = {**shop.acme.auth, "Idempotency-Key": "pay-1"}
    made = client.post("/api/v1/payments", json=body, headers=headers)
    assert made.status_code == 201, made.data
    payment = made.get_json()
    assert made.headers["Location"].endswith(f"/api/v1/payments/{payment['id']}")
    assert (payment["object"], payment["status"], payment["source"], payment["method"],
            payment["amount"], payment["currency"], payment["reference"],
            payment["received_on"]) == ("payment", "succeeded", "offline", "transfer", 3000,
                                        "EUR", "SEPA 4711", "2026-11-28")
    assert payment["receipt_number"].startswith("PAY-")
    assert payment["allocations"] == [{"invoice": invoice["id"], "amount": 2975}]  # 25 credit
    again = client.post("/api/v1/payments", json=body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == payment["id"]
    paid = client.get(f"/api/v1/invoices/{invoice['id']}", headers=shop.acme.auth).get_json()
    assert (paid["status"], paid["amount_due"]) == ("paid", 0)
    assert client.get(f"/api/v1/payments/{payment['id']}",
                      headers=shop.acme.auth).get_json() == payment
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(
            AuditEntry.action == "payment.recorded"))
        assert entry.detail["amount_minor"] == 3000 and entry.detail["via_key"]


def test_a_refused_offline_payment_names_its_field_and_records_nothing(app, client, shop):
    auth = shop.acme.auth
    draft = client.post("/api/v1/invoices", json=_invoice_body(shop), headers=auth).get_json()
    body = {"customer": shop.acme.customer_id, "amount": 100, "method": "cash"}
    _error(client.post("/api/v1/payments", json={**body, "amount": 0}, headers=auth), 422,
           field="amount")
    _error(client.post("/api/v1/payments", json={**body, "method": "card"}, headers=auth), 422,
           field="method")
    _error(client.post("/api/v1/payments", json={**body, "amount": "1.00"}, headers=auth), 422,
           field="amount")
    _error(client.post("/api/v1/payments", json={**body, "invoices": [draft["id"]]},
                       headers=auth), 400, field="invoices")  # a draft is not open
    _error(client.post("/api/v1/payments", json={**body, "customer": shop.other.customer_id},
                       headers=auth), 404, "not_found")
    listed = client.get("/api/v1/payments", headers=auth).get_json()
    assert listed == {"object": "list", "data": [], "has_more": False}


def test_payments_are_listed_by_customer_and_status_page_by_page(app, client, shop):
    auth = shop.acme.auth
    made = [client.post("/api/v1/payments", json={
        "customer": shop.acme.customer_id, "amount": 100 * n, "method": "cash"},
        headers=auth).get_json()["id"] for n in (1, 2, 3)]
    first = client.get("/api/v1/payments?limit=2", headers=auth).get_json()
    assert [p["id"] for p in first["data"]] == made[:2] and first["has_more"] is True
    rest = client.get(f"/api/v1/payments?limit=2&starting_after={made[1]}",
                      headers=auth).get_json()
    assert [p["id"] for p in rest["data"]] == made[2:] and rest["has_more"] is False
    ok = client.get(f"/api/v1/payments?customer={shop.acme.customer_id}&status=succeeded",
                    headers=auth).get_json()["data"]
    assert [p["id"] for p in ok] == made
    assert client.get("/api/v1/payments?status=failed", headers=auth).get_json()["data"] == []
    _error(client.get("/api/v1/payments?status=paid", headers=auth), 422, field="status")


# --- orders --------------------------------------------------------------------------------


def _monthly(app, shop):
    """A monthly product of acme's catalogue."""
    with app.app_context():
        product = Product(merchant_id=shop.acme.merchant_id, sku="box", name="Coffee box",
                          unit_price_minor=2000, currency="EUR", tax_rate_bp=0,
                          interval="month", interval_count=1)
        db.session.add(product)
        db.session.commit()
        return product.id


def test_an_order_is_placed_once_per_key_and_its_first_period_invoiced(app, client, shop):
    body = {"customer": shop.acme.customer_id,
            "lines": [{"product": _monthly(app, shop), "quantity": 2}]}
    headers = {**shop.acme.auth, "Idempotency-Key": "order-1"}
    made = client.post("/api/v1/orders", json=body, headers=headers)
    assert made.status_code == 201, made.data
    order = made.get_json()
    assert made.headers["Location"].endswith(f"/api/v1/orders/{order['id']}")
    assert (order["object"], order["status"], order["currency"], order["period_total"],
            order["interval"], order["customer"]) == ("order", "active", "EUR", 4000, "month",
                                                      shop.acme.customer_id)
    assert order["number"].startswith("ORD-") and order["lines"][0]["recurring"] is True
    invoice = client.get(f"/api/v1/invoices/{order['first_invoice']}",
                         headers=shop.acme.auth).get_json()
    assert (invoice["status"], invoice["total"], invoice["order"]) == ("issued", 4000,
                                                                       order["id"])
    again = client.post("/api/v1/orders", json=body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    listed = client.get(f"/api/v1/orders?customer={shop.acme.customer_id}",
                        headers=shop.acme.auth).get_json()["data"]
    assert [o["id"] for o in listed] == [shop.acme.order_id, order["id"]]
    _error(client.post("/api/v1/orders", json={**body, "start": "2001-01-01"},
                       headers=shop.acme.auth), 400, field="start")
    _error(client.post("/api/v1/orders", json={**body, "lines": [
        {"product": shop.other.product_id}]}, headers=shop.acme.auth), 400, field="lines")


def test_an_order_is_cancelled_at_period_end_or_at_once(app, client, shop):
    auth = shop.acme.auth
    monthly = _monthly(app, shop)
    body = {"customer": shop.acme.customer_id, "lines": [{"product": monthly}]}
    first = client.post("/api/v1/orders", json=body, headers=auth).get_json()
    second = client.post("/api/v1/orders", json=body, headers=auth).get_json()
    later = client.post(f"/api/v1/orders/{first['id']}/cancel", json={}, headers=auth)
    assert later.status_code == 200, later.data
    later = later.get_json()
    assert later["status"] == "active" and later["end_date"] == first["next_billing_date"]
    assert later["cancelled_at"].endswith("Z")
    now = client.post(f"/api/v1/orders/{second['id']}/cancel", json={"at_period_end": False},
                      headers=auth).get_json()
    assert now["status"] == "cancelled" and now["next_billing_date"] is None
    _error(client.post(f"/api/v1/orders/{second['id']}/cancel", json={}, headers=auth), 409)
    _error(client.post(f"/api/v1/orders/{second['id']}/cancel", json={"at_period_end": "soon"},
                       headers=auth), 422, field="at_period_end")
    cancelled = client.get("/api/v1/orders?status=cancelled", headers=auth).get_json()["data"]
    assert [o["id"] for o in cancelled] == [second["id"]]


def test_a_subscription_is_changed_as_in_the_portal(app, client, shop):
    """Item 2's "change" (W-11): the quantity of a running subscription; the proration waits
    for its next invoice; a cancelled one is refused (409), another merchant's is unknown."""
    auth = shop.acme.auth
    body = {"customer": shop.acme.customer_id, "lines": [{"product": _monthly(app, shop)}]}
    order = client.post("/api/v1/orders", json=body, headers=auth).get_json()
    changed = client.post(f"/api/v1/orders/{order['id']}/change", json={"quantity": 3},
                          headers=auth)
    assert changed.status_code == 200, changed.data
    changed = changed.get_json()
    assert changed["lines"][0]["quantity"] == 3 and changed["period_total"] == 6000
    _error(client.post(f"/api/v1/orders/{order['id']}/change", json={"quantity": 0},
                       headers=auth), 422, field="quantity")
    client.post(f"/api/v1/orders/{order['id']}/cancel", json={"at_period_end": False},
                headers=auth)
    _error(client.post(f"/api/v1/orders/{order['id']}/change", json={"quantity": 2},
                       headers=auth), 409)
    _error(client.post(f"/api/v1/orders/{order['id']}/change", json={"quantity": 2},
                       headers=shop.other.auth), 404)


def test_a_switch_to_another_period_answers_the_new_subscription(app, client, shop):
    auth = shop.acme.auth
    body = {"customer": shop.acme.customer_id, "lines": [{"product": _monthly(app, shop)}]}
    order = client.post("/api/v1/orders", json=body, headers=auth).get_json()
    with app.app_context():
        yearly = Product(merchant_id=shop.acme.merchant_id, sku="year", name="Coffee year",
                         unit_price_minor=20000, currency="EUR", tax_rate_bp=0,
                         interval="year", interval_count=1)
        db.session.add(yearly)
        db.session.commit()
        yearly_id = yearly.id
    switch = {"product": yearly_id, "quantity": 1}
    _error(client.post(f"/api/v1/orders/{order['id']}/change", json=switch, headers=auth),
           409)  # its first invoice is still open: no credit for unpaid time
    with app.app_context():
        for invoice in db.session.scalars(select(Invoice).where(
                Invoice.order_id == order["id"])):
            invoice.status, invoice.balance_minor = "paid", 0
        db.session.commit()
    changed = client.post(f"/api/v1/orders/{order['id']}/change", json=switch, headers=auth)
    assert changed.status_code == 200, changed.data
    new = changed.get_json()
    assert new["id"] != order["id"] and new["period_total"] == 20000
    assert client.get(f"/api/v1/orders/{order['id']}", headers=auth).get_json()["status"] \
        == "ended"


# --- proposals -----------------------------------------------------------------------------


def test_a_proposal_is_written_once_per_key_sent_read_and_listed(app, client, shop):
    auth = shop.acme.auth
    body = {"customer": shop.acme.customer_id, "valid_until": "2099-12-31",
            "lines": [{"product": shop.acme.product_id, "quantity": 2}], "note": "As agreed."}
    headers = {**auth, "Idempotency-Key": "pro-1"}
    made = client.post("/api/v1/proposals", json=body, headers=headers)
    assert made.status_code == 201, made.data
    proposal = made.get_json()
    assert made.headers["Location"].endswith(f"/api/v1/proposals/{proposal['id']}")
    assert (proposal["object"], proposal["status"], proposal["currency"], proposal["total"],
            proposal["net_amount"], proposal["tax_amount"], proposal["note"],
            proposal["valid_until"], proposal["sent_at"]) == (
        "proposal", "draft", "EUR", 2975, 2500, 475, "As agreed.", "2099-12-31", None)
    assert proposal["number"].startswith("PRO-")
    assert client.post("/api/v1/proposals", json=body, headers=headers).get_json() == proposal
    sent = client.post(f"/api/v1/proposals/{proposal['id']}/send", headers=auth)
    assert sent.status_code == 200, sent.data
    sent = sent.get_json()
    assert sent["status"] == "sent" and sent["sent_at"].endswith("Z")
    _error(client.post(f"/api/v1/proposals/{proposal['id']}/send", headers=auth), 409)
    assert client.get(f"/api/v1/proposals/{proposal['id']}", headers=auth).get_json() == sent
    listed = client.get("/api/v1/proposals?status=sent", headers=auth).get_json()["data"]
    assert [p["id"] for p in listed] == [proposal["id"]]
    drafts = client.get(f"/api/v1/proposals?customer={shop.acme.customer_id}&status=draft",
                        headers=auth).get_json()
    assert [p["id"] for p in drafts["data"]] == [shop.acme.proposal_id]
    page = client.get("/api/v1/proposals?limit=1", headers=auth).get_json()
    assert [p["id"] for p in page["data"]] == [shop.acme.proposal_id] and page["has_more"]
    _error(client.post("/api/v1/proposals", json={**body, "valid_until": "2001-01-01"},
                       headers=auth), 400, field="valid_until")
    _error(client.post("/api/v1/proposals", json={**body, "note": "x" * 2001}, headers=auth),
           422, field="note")
    _error(client.post("/api/v1/proposals", json={**body, "lines": [
        {"product": shop.other.product_id}]}, headers=auth), 400, field="lines")


def test_a_sent_proposal_past_its_day_reads_expired(app, client, shop):
    from datetime import timedelta

    from widget_server.commerce.proposal_models import Proposal

    auth = shop.acme.auth
    client.post(f"/api/v1/proposals/{shop.acme.proposal_id}/send", headers=auth)
    with app.app_context():
        proposal = db.session.get(Proposal, shop.acme.proposal_id)
        proposal.valid_until -= timedelta(days=60)
        db.session.commit()
    read = client.get(f"/api/v1/proposals/{shop.acme.proposal_id}", headers=auth).get_json()
    assert read["status"] == "expired"
    expired = client.get("/api/v1/proposals?status=expired", headers=auth).get_json()["data"]
    assert [p["id"] for p in expired] == [shop.acme.proposal_id]
    assert client.get("/api/v1/proposals?status=sent", headers=auth).get_json()["data"] == []
