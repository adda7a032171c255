"""The merchant's REST API (issue #25 slice a; SPEC A-1, A-3): keys, the error contract,
customers and products, the OpenAPI document and its docs page, idempotency keys."""
import hashlib
import re
import threading
import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from widget_server.api import idempotency
from widget_server.billing import invoices as billing
from widget_server.billing import payments
from widget_server.billing.models import Invoice, Payment
from widget_server.catalogue.models import Product
from widget_server.commerce import orders as order_services
from widget_server.commerce import proposals as proposal_services
from widget_server.commerce.models import Order
from widget_server.commerce.proposal_models import Proposal
from widget_server.core.extensions import db, limiter
from widget_server.customers import fields as field_service
from widget_server.customers import services as customer_services
from widget_server.customers.models import Customer, CustomerEmail
from widget_server.tenancy import api_keys
from widget_server.tenancy.models import Merchant

from .conftest import csrf_from

JANE = {"first_name": "Jane", "last_name": "Doe", "emails": ["jane@example.test"]}


def _key(app, merchant_id, name="Backend"):
    with app.app_context():
        _made, secret = api_keys.create_key(db.session.get(Merchant, merchant_id), name)
        db.session.commit()
        return secret


@pytest.fixture
def shop(app, make_merchant):
    """Two merchants, each with a key, a customer and a product."""
    from types import SimpleNamespace

    out = {}
    for slug in ("acme", "other"):
        merchant_id, _ = make_merchant(slug)
        with app.app_context():
            customer = Customer(merchant_id=merchant_id, first_name="Ann", last_name=slug.title(),
                                custom_fields={})
            customer.emails = [CustomerEmail(merchant_id=merchant_id,
                                             address=f"ann@{slug}.test", position=0)]
            product = Product(merchant_id=merchant_id, sku=f"{slug}-mug", name="Mug",
                              unit_price_minor=1250, currency="EUR", tax_rate_bp=1900)
            db.session.get(Merchant, merchant_id).currency = "EUR"
            db.session.add_all([customer, product])
            db.session.flush()
            merchant = db.session.get(Merchant, merchant_id)
            invoice = billing.create_draft(merchant, customer, [(product.id, 1)], None)
            payment = None if slug == "acme" else payments.record_offline(  # credit on account
                merchant, customer, [], 500, method="cash", reference="",
                received_on=merchant.today(), idempotency_key="fixture")
            order = order_services.place(  # starting later: nothing invoiced yet
                merchant, customer, [order_services.Item(product.id, 1)], merchant.today(),
                start=merchant.today() + timedelta(days=10))
            proposal = proposal_services.create(
                merchant, customer, [order_services.Item(product.id, 1)], note="",
                valid_until=merchant.today() + timedelta(days=30), today=merchant.today())
            db.session.commit()
            out[slug] = SimpleNamespace(merchant_id=merchant_id, customer_id=customer.id,
                                        product_id=product.id, invoice_id=invoice.id,
                                        payment_id=payment and payment.id,
                                        order_id=order.id, proposal_id=proposal.id)
        out[slug].secret = _key(app, merchant_id)
        out[slug].auth = {"Authorization": f"Bearer {out[slug].secret}"}
    return SimpleNamespace(**out)


def _error(response, status, code=None, field=None):
    assert response.status_code == status, (response.status_code, response.data[:300])
    assert response.is_json, response.data[:200]
    error = response.get_json()["error"]
    assert set(error) >= {"code", "message", "field"}
    if code:
        assert error["code"] == code, error
    if field is not None:
        assert error["field"] == field, error
    return error


# --- keys -------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer sk_live_short", "Basic abc",
                                    "Bearer sk_live_" + "A" * 43, "bearer  "])
def test_a_missing_malformed_or_unknown_key_is_401_json(client, shop, header):
    headers = {"Authorization": header} if header else {}
    for path in ("/api/v1/customers", f"/api/v1/customers/{shop.acme.customer_id}",
                 "/api/v1/products"):
        answer = client.get(path, headers=headers)
        _error(answer, 401, "unauthorized")
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    _error(client.post("/api/v1/customers", json=JANE, headers=headers), 401)


def test_a_revoked_key_is_401_and_a_used_key_notes_when(app, client, shop):
    assert client.get("/api/v1/customers", headers=shop.acme.auth).status_code == 200
    with app.app_context():
        key = db.session.scalar(select(api_keys.ApiKey).where(
            api_keys.ApiKey.merchant_id == shop.acme.merchant_id))
        assert key.last_used_at is not None
        api_keys.revoke_key(key)
        db.session.commit()
    _error(client.get("/api/v1/customers", headers=shop.acme.auth), 401, "unauthorized")


def test_each_key_is_rate_limited_with_a_json_429_and_retry_after(app, client, shop):
    before, app.config["API_RATE_LIMIT"] = app.config["API_RATE_LIMIT"], "3 per minute"
    limiter.enabled = True
    limiter.reset()
    try:
        for _ in range(3):
            assert client.get("/api/v1/products", headers=shop.acme.auth).status_code == 200
        answer = client.get("/api/v1/customers", headers=shop.acme.auth)
        _error(answer, 429, "rate_limited")
        assert 1 <= int(answer.headers["Retry-After"]) <= 61
        # another key has its own allowance
        assert client.get("/api/v1/products", headers=shop.other.auth).status_code == 200
    finally:
        app.config["API_RATE_LIMIT"] = before
        limiter.reset()
        limiter.enabled = False


# --- the error contract and tenancy --------------------------------------------------------


def _operations(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "patch", "put", "delete"):
                yield path, method, op


# What a creating POST names of another merchant (each must answer 404, nothing made).
OTHERS_BODY = {
    "/api/v1/invoices": lambda shop: {"customer": shop.other.customer_id,
                                      "lines": [{"product": shop.acme.product_id}]},
    "/api/v1/payments": lambda shop: {"customer": shop.acme.customer_id, "amount": 100,
                                      "method": "cash", "invoices": [shop.other.invoice_id]},
    "/api/v1/orders": lambda shop: {"customer": shop.other.customer_id,
                                    "lines": [{"product": shop.acme.product_id}]},
    "/api/v1/proposals": lambda shop: {"customer": shop.other.customer_id,
                                       "lines": [{"product": shop.acme.product_id}],
                                       "valid_until": "2099-01-01"},
}


def test_every_endpoint_answers_404_for_another_merchants_ids(client, shop):
    """Walks the OpenAPI document: every operation with an id in its path, and every list
    with another merchant's cursor."""
    other = {"customer_id": shop.other.customer_id, "product_id": shop.other.product_id,
             "invoice_id": shop.other.invoice_id, "payment_id": shop.other.payment_id,
             "order_id": shop.other.order_id, "proposal_id": shop.other.proposal_id}
    cursors = {"/api/v1/customers": "customer_id", "/api/v1/products": "product_id",
               "/api/v1/invoices": "invoice_id", "/api/v1/payments": "payment_id",
               "/api/v1/orders": "order_id", "/api/v1/proposals": "proposal_id"}
    tried = 0
    for path, method, _op in _operations(client):
        names = re.findall(r"{(\w+)}", path)
        if names:
            url = path.format(**{n: other[n] for n in names})
            body = {"first_name": "Mallory"} if method == "patch" else {} if method == "post" \
                else None
            answer = client.open(url, method=method.upper(), json=body, headers=shop.acme.auth)
            _error(answer, 404, "not_found")
            tried += 1
        elif method == "get":
            answer = client.get(path, query_string={"starting_after": other[cursors[path]]},
                                headers=shop.acme.auth)
            _error(answer, 404, "not_found")
            tried += 1
            for name in ("customer",):  # a filter naming another merchant's object
                if any(p["name"] == name for p in _op.get("parameters", [])):
                    _error(client.get(path, query_string={name: other[f"{name}_id"]},
                                      headers=shop.acme.auth), 404, "not_found")
        elif method == "post":  # a creating POST naming another merchant's objects
            answer = client.post(path, json=OTHERS_BODY.get(path, {}) and OTHERS_BODY[path](
                shop), headers=shop.acme.auth)
            if path in OTHERS_BODY:
                _error(answer, 404, "not_found")
                tried += 1
    assert tried >= 22
    with client.application.app_context():  # nothing of the other merchant changed
        assert db.session.get(Customer, shop.other.customer_id).first_name == "Ann"
        assert db.session.get(Invoice, shop.other.invoice_id).status == "draft"
        assert db.session.scalar(select(func.count(Invoice.id))) == 2
        assert db.session.scalar(select(func.count(Payment.id))) == 1
        assert db.session.get(Order, shop.other.order_id).cancelled_at is None
        assert db.session.get(Proposal, shop.other.proposal_id).status == "draft"
    listed = client.get("/api/v1/customers", headers=shop.acme.auth).get_json()["data"]
    assert [c["id"] for c in listed] == [shop.acme.customer_id]


@pytest.mark.parametrize("body, field", [
    ({"last_name": "Doe", "emails": ["a@example.test"]}, "first_name"),
    ({**JANE, "emails": []}, "emails"),
    ({**JANE, "emails": ["not an address"]}, "emails"),
    ({**JANE, "first_name": "J"}, "first_name"),
    ({**JANE, "first_name": "x" * 101}, "first_name"),
    ({**JANE, "phone": "call me"}, "phone"),
    ({**JANE, "company": "Doe\nLtd"}, "company"),
    ({**JANE, "last_name": "Doe\r\nBcc: x"}, "last_name"),
    ({**JANE, "country": "Germany"}, "country"),
    ({**JANE, "colour": "red"}, "colour"),
    ({**JANE, "emails": "jane@example.test"}, "emails"),
    ({**JANE, "custom_fields": {"No such": 1}}, "custom_fields.No such"),
    ({**JANE, "custom_fields": {"Tier": "platinum"}}, "custom_fields.Tier"),
])
def test_a_refused_value_is_a_json_422_naming_its_field(app, client, shop, body, field):
    with app.app_context():
        field_service.create_definition(db.session.get(Merchant, shop.acme.merchant_id),
                                        name="Tier", field_type="choice", required=False,
                                        choices=["gold", "silver"])
        db.session.commit()
    _error(client.post("/api/v1/customers", json=body, headers=shop.acme.auth), 422,
           field=field)
    with app.app_context():  # nothing made
        assert db.session.scalar(select(Customer).where(Customer.last_name == "Doe")) is None


def test_bad_input_anywhere_is_json_never_a_page_or_a_500(client, shop):
    auth = shop.acme.auth
    errors = [
        _error(client.post("/api/v1/customers", data="{not json", headers=auth,
                           content_type="application/json"), 400),
        _error(client.post("/api/v1/customers", data="a=b", headers=auth), 422),
        _error(client.get("/api/v1/customers?limit=0", headers=auth), 422, field="limit"),
        _error(client.get("/api/v1/customers?limit=x", headers=auth), 422, field="limit"),
        _error(client.get("/api/v1/customers?starting_after=99999999999", headers=auth), 422,
               field="starting_after"),
        _error(client.get("/api/v1/customers/99999999999", headers=auth), 404),
        _error(client.get("/api/v1/nothing-here", headers=auth), 404, "not_found"),
        _error(client.delete("/api/v1/customers", headers=auth), 405, "method_not_allowed"),
        _error(client.patch(f"/api/v1/customers/{shop.acme.customer_id}", json=[1],
                            headers=auth), 422),
    ]
    # each says what went wrong to the person reading it, not only a code
    assert all(isinstance(e["message"], str) and e["message"].strip() for e in errors), errors


# --- customers and products ------------------------------------------------------------


def test_a_customer_is_created_read_and_changed_with_custom_fields_by_name(app, client, shop):
    with app.app_context():
        merchant = db.session.get(Merchant, shop.acme.merchant_id)
        field_service.create_definition(merchant, name="Tier", field_type="choice",
                                        required=False, choices=["gold", "silver"])
        field_service.create_definition(merchant, name="VIP", field_type="boolean",
                                        required=False, choices=[])
        db.session.commit()
    auth = shop.acme.auth
    made = client.post("/api/v1/customers", headers=auth, json={
        **JANE, "emails": ["Jane@Example.test", "ap@example.test"], "company": "Doe Ltd",
        "country": "de", "custom_fields": {"Tier": "gold", "VIP": True}})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["object"] == "customer" and body["emails"] == ["jane@example.test",
                                                               "ap@example.test"]
    assert body["custom_fields"] == {"Tier": "gold", "VIP": True} and body["country"] == "DE"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["created_at"])
    assert made.headers["Location"].endswith(f"/api/v1/customers/{body['id']}")
    url = f"/api/v1/customers/{body['id']}"
    assert client.get(url, headers=auth).get_json() == body
    changed = client.patch(url, headers=auth, json={"city": "Berlin",
                                                    "custom_fields": {"Tier": "silver"}})
    assert changed.status_code == 200, changed.get_json()
    after = changed.get_json()
    assert after["city"] == "Berlin" and after["emails"] == body["emails"]
    assert after["custom_fields"] == {"Tier": "silver", "VIP": True}
    assert after["first_name"] == "Jane"
    _error(client.patch(url, headers=auth, json={"emails": ["x"]}), 422, field="emails")
    with app.app_context():  # the admin sees the same customer
        customer = db.session.get(Customer, body["id"])
        assert customer.merchant_id == shop.acme.merchant_id and customer.city == "Berlin"


def test_customers_page_by_cursor_and_search(app, client, shop):
    with app.app_context():
        merchant = db.session.get(Merchant, shop.acme.merchant_id)
        for i in range(5):
            customer_services.save_customer(merchant, None, details={
                "first_name": f"Pat{i}", "last_name": "Page"}, emails=[f"pat{i}@example.test"],
                custom_values={})
        db.session.commit()
    auth, seen, after = shop.acme.auth, [], None
    while True:
        query = {"limit": 2, **({"starting_after": after} if after else {})}
        page = client.get("/api/v1/customers", query_string=query, headers=auth).get_json()
        assert page["object"] == "list" and len(page["data"]) <= 2
        seen += [c["id"] for c in page["data"]]
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    assert len(seen) == 6 and seen == sorted(seen) and len(set(seen)) == 6
    found = client.get("/api/v1/customers?q=pat3@", headers=auth).get_json()
    assert [c["first_name"] for c in found["data"]] == ["Pat3"] and not found["has_more"]


def test_products_are_listed_and_read_in_minor_units(client, shop):
    listed = client.get("/api/v1/products", headers=shop.acme.auth).get_json()
    assert listed["has_more"] is False and len(listed["data"]) == 1
    product = listed["data"][0]
    assert product == client.get(f"/api/v1/products/{product['id']}",
                                 headers=shop.acme.auth).get_json()
    assert (product["object"], product["unit_amount"], product["currency"],
            product["interval"], product["active"]) == ("product", 1250, "EUR", None, True)


# --- idempotency (A-3) -------------------------------------------------------------------


def _count(app, merchant_id, last_name="Doe"):
    with app.app_context():
        return len(db.session.scalars(select(Customer.id).where(
            Customer.merchant_id == merchant_id, Customer.last_name == last_name)).all())


def test_the_same_idempotency_key_replays_the_first_answer(app, client, shop):
    headers = {**shop.acme.auth, "Idempotency-Key": "order-42"}
    first = client.post("/api/v1/customers", json=JANE, headers=headers)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    # the same body, its keys in another order: a replay
    again = client.post("/api/v1/customers", headers=headers,
                        json={"emails": JANE["emails"], "last_name": "Doe",
                              "first_name": "Jane"})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json() and again.headers["Location"]
    assert _count(app, shop.acme.merchant_id) == 1
    # another body under the same key is refused
    _error(client.post("/api/v1/customers", json={**JANE, "first_name": "Joan"},
                       headers=headers), 422, "idempotency_key_reused")
    # the key is the merchant's own: another merchant's same key is a new request
    other = client.post("/api/v1/customers", json=JANE,
                        headers={**shop.other.auth, "Idempotency-Key": "order-42"})
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
    # a new key makes a new customer
    assert client.post("/api/v1/customers", json=JANE, headers={
        **shop.acme.auth, "Idempotency-Key": "order-43"}).status_code == 201
    assert _count(app, shop.acme.merchant_id) == 2


def test_a_refused_request_frees_its_key_and_a_day_old_key_is_forgotten(app, client, shop):
    headers = {**shop.acme.auth, "Idempotency-Key": "k-1"}
    _error(client.post("/api/v1/customers", json={**JANE, "emails": ["nope"]}, headers=headers),
           422, field="emails")
    assert client.post("/api/v1/customers", json=JANE, headers=headers).status_code == 201
    with app.app_context():
        row = db.session.scalar(select(idempotency.IdempotencyKey))
        row.created_at = row.created_at - idempotency.LIFETIME
        db.session.commit()
    fresh = client.post("/api/v1/customers", json=JANE, headers=headers)
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers
    with app.app_context():
        assert idempotency.purge(idempotency.utcnow() + idempotency.LIFETIME) == 1
        db.session.commit()
    _error(client.post("/api/v1/customers", json=JANE, headers={
        **shop.acme.auth, "Idempotency-Key": " "}), 400, "invalid_idempotency_key")


@pytest.mark.parametrize("duplicates", [2, 5])
def test_a_concurrent_duplicate_gets_409_and_one_customer_is_made(app, shop, live_server,
                                                                   monkeypatch, duplicates):
    """Real concurrent requests to a live server; the first one's work is slowed so the others
    arrive while it runs."""
    real_save = customer_services.save_customer

    def slow_save(*args, **kwargs):
        time.sleep(0.8)
        return real_save(*args, **kwargs)

    monkeypatch.setattr(customer_services, "save_customer", slow_save)
    barrier, answers = threading.Barrier(duplicates), []
    headers = {**shop.acme.auth, "Idempotency-Key": "same-click"}

    def post():
        barrier.wait(timeout=10)
        answers.append(requests.post(f"{live_server}/api/v1/customers", json=JANE,
                                     headers=headers, timeout=30))

    threads = [threading.Thread(target=post) for _ in range(duplicates)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [409] * (duplicates - 1), [a.text for a in answers]
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["error"]["code"] == "idempotency_key_in_use"
    assert _count(app, shop.acme.merchant_id) == 1
    # once the first has finished, the same request is a replay
    replay = requests.post(f"{live_server}/api/v1/customers", json=JANE, headers=headers,
                           timeout=30)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert _count(app, shop.acme.merchant_id) == 1


# --- OpenAPI and docs --------------------------------------------------------------------


def test_the_openapi_document_lists_every_route_with_its_statuses(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and "bearerAuth" in spec["components"][
        "securitySchemes"]
    documented = {(path, method) for path, item in spec["paths"].items() for method in item
                  if method != "parameters"}
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint.startswith(
                ("api-docs.", "api_docs_page.")):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        served |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served and served == documented
    for path, method in documented:
        op = spec["paths"][path][method]
        statuses = set(op["responses"])
        assert {"401", "429"} <= statuses
        if "requestBody" in op or any(p["in"] == "query" for p in op.get("parameters", [])):
            assert "422" in statuses  # what its schemas refuse
        if "{" in path:
            assert "404" in statuses
        if method == "post" and path == "/api/v1/portal_sessions":
            # a single sign-on token is kept only as a hash: no stored answer to replay (the
            # merchant asks again; the newer token cancels the older, #25 item 6)
            assert {"201", "404", "422", "400"} <= statuses
        elif method == "post" and "{" not in path:  # a creating POST
            assert {"201", "409", "422", "400"} <= statuses
            assert any(p["name"] == "Idempotency-Key" for p in op["parameters"])
        assert op.get("summary")


def test_the_docs_page_shows_every_operation_and_loads_nothing_from_elsewhere(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for path, item in spec["paths"].items():
        for method in item:
            if method != "parameters":
                assert f"{method.upper()} {path}" in html
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert "<script" not in html
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith(("/", "#")), url
        if url.startswith("/"):
            assert client.get(url).status_code == 200, url


# --- the admin's page ----------------------------------------------------------------------


def test_the_admin_creates_a_key_shown_once_stored_as_a_hash_and_revokes_it(app, client,
                                                                           owner_client):
    page = client.get("/admin/api-keys")
    assert page.status_code == 200 and 'href="/api/v1/docs"' in page.get_data(as_text=True)
    assert "/admin/api-keys" in client.get("/admin/").get_data(as_text=True)  # in the menu
    # without the CSRF token: refused, nothing made
    assert client.post("/admin/api-keys", data={"name": "Shop"}).status_code == 400
    page = client.get("/admin/api-keys").get_data(as_text=True)
    form = {"csrf_token": csrf_from(page), "name": "Shop backend",
            "once": re.search(r'name="once"[^>]*value="([^"]+)"', page).group(1)}
    made = client.post("/admin/api-keys", data=form)
    assert made.status_code == 200
    again = client.post("/admin/api-keys", data=form)  # a reload sends the form again
    html = made.get_data(as_text=True)
    secret = re.search(r'value="(sk_live_[A-Za-z0-9_-]{43})"', html).group(1)
    assert again.status_code == 302
    assert "sent already" in client.get(again.location).get_data(as_text=True)
    assert "will not be shown again" in html
    listing = client.get("/admin/api-keys").get_data(as_text=True)
    assert secret not in listing and f"{secret[:12]}…" in listing and "Never" in listing
    with app.app_context():
        keys = db.session.scalars(select(api_keys.ApiKey)).all()
        assert len(keys) == 1  # one key, however often the form was sent
        key = keys[0]
        assert key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in repr([getattr(key, c.name) for c in key.__table__.columns])
        assert key.created_by.email == "owner@acme.test"
        key_id = key.id
    auth = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/customers", headers=auth).status_code == 200
    assert "Never" not in client.get("/admin/api-keys").get_data(as_text=True)
    revoke_url = f"/admin/api-keys/{key_id}/revoke"
    assert client.post(revoke_url).status_code == 400  # no CSRF token
    page = client.get(revoke_url)
    answer = client.post(revoke_url, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert answer.status_code == 302
    _error(client.get("/api/v1/customers", headers=auth), 401)
    assert "Revoked" in client.get("/admin/api-keys").get_data(as_text=True)


def test_only_admins_with_the_permission_manage_keys(app, client, browser_like, make_merchant,
                                                     make_admin):
    merchant_id, _ = make_merchant("acme")
    make_admin(merchant_id, "staff@acme.test", role="staff")
    other_id, _ = make_merchant("other")
    secret = _key(app, other_id)
    browser_like.login("staff@acme.test", "staff-pass-123")
    assert client.get("/admin/api-keys").status_code == 403
    assert "/admin/api-keys" not in client.get("/admin/").get_data(as_text=True)
    with app.app_context():
        other_key = db.session.scalar(select(api_keys.ApiKey.id))
    assert client.get(f"/admin/api-keys/{other_key}/revoke").status_code == 403
    assert client.get("/api/v1/products", headers={
        "Authorization": f"Bearer {secret}"}).status_code == 200
