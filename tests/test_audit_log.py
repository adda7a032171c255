"""The audit log (#24 item 6, T-9): every audited admin action writes its entry — who, from
where, when, before and after — through the admin as an admin uses it; secrets are never
stored; the service offers no way to change or remove an entry (and PostgreSQL refuses one);
the Audit log page filters, pages by keyset with a constant number of queries, and shows times
in the merchant's time zone."""
import inspect
import json
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text

from tests.conftest import Browserish, csrf_from
from widget_server.core.database import utcnow
from widget_server.core.extensions import db
from widget_server.customers import fields as field_service
from widget_server.customers.models import Customer, CustomerEmail
from widget_server.profiles import services as profile_services
from widget_server.tenancy import admins, audit
from widget_server.tenancy.audit import AuditEntry
from widget_server.tenancy.models import AdminUser, Merchant

INITIAL_PASSWORD = "initial-Secret-pass-77"


def _customer(merchant_id, first, last, address, **fields):
    customer = Customer(merchant_id=merchant_id, first_name=first, last_name=last,
                        custom_fields={}, **fields)
    customer.emails = [CustomerEmail(merchant_id=merchant_id, address=address, position=0)]
    db.session.add(customer)
    db.session.flush()
    return customer.id


@pytest.fixture
def w(app, billed):
    """Acme's owner signed in; Jane (invoices, portal login), Max (no login, no money), a
    duplicate of Jane, a spare profile, two custom fields and a staff admin."""
    with app.app_context():
        merchant = db.session.get(Merchant, billed.merchant_id)
        max_id = _customer(merchant.id, "Max", "Muster", "max@example.test")
        dup_id = _customer(merchant.id, "Jane", "Doe", "jane.dup@example.test")
        spare = profile_services.create_profile(merchant, "Spare", "spare")
        region = field_service.create_definition(merchant, name="Region", field_type="text",
                                                 required=False, choices=[])
        tier = field_service.create_definition(merchant, name="Tier", field_type="text",
                                               required=False, choices=[])
        sam = admins.create_admin(merchant, "sam@acme.test", "staff-pass-123", "staff")
        db.session.flush()
        owner = admins.find_by_email("owner@acme.test")
        db.session.commit()
        ids = SimpleNamespace(max=max_id, dup=dup_id, spare=spare.id, region=region.id,
                              tier=tier.id, sam=sam.id, owner=owner.id)
    admin = Browserish(app.test_client())
    assert admin.login("owner@acme.test", "owner-pass-123").status_code == 302
    return SimpleNamespace(p=billed, admin=admin, ids=ids, jane=billed.customer_id, app=app)


def _portal(w, action, data=None, customer_id=None):
    customer_id = customer_id or w.jane
    return w.admin.submit(f"/admin/customers/{customer_id}/portal/{action}", data or {},
                          form_url=f"/admin/customers/{customer_id}")


def _refund(w):
    from tests.test_money_back import _refund_page, paid_payment

    _, _, payment_id = paid_payment(w.app, w.p.merchant_id)
    return (w.admin.client.post(f"/admin/payments/{payment_id}/refund", data={
        **_refund_page(w.admin, payment_id), "amount": "10.00", "reason": "Returned"}),
        f"payment:{payment_id}")


def _credit_note(w):
    from tests.test_money_back import _credit_form

    invoice_id = w.p.invoice_ids[0]
    return (w.admin.client.post(f"/admin/invoices/{invoice_id}/credit-notes", data={
        **_credit_form(w.admin, invoice_id), "amount": "1.00", "reason": "Dent"}),
        f"invoice:{invoice_id}")


def _void(w):
    invoice_id = w.p.invoice_ids[1]
    return (w.admin.submit(f"/admin/invoices/{invoice_id}/void", {},
                           form_url=f"/admin/invoices/{invoice_id}/void"),
            f"invoice:{invoice_id}")


def _offline_payment(w):
    url = f"/admin/customers/{w.jane}/payments/new"
    html = w.admin.client.get(url).get_data(as_text=True)
    answer = w.admin.client.post(url, data={
        "csrf_token": csrf_from(html), "method": "cash", "amount": "2.00",
        "received_on": "11/27/2026", "invoices": [str(w.p.invoice_ids[0])],
        "key": re.search(r'name="key" type="hidden" value="([^"]+)"', html).group(1)})
    return answer, None


def _revoke_key(w):
    from widget_server.tenancy import api_keys
    from widget_server.tenancy.models import AdminUser

    with w.app.app_context():
        merchant = db.session.get(Merchant, w.p.merchant_id)
        key, _ = api_keys.create_key(merchant, "Old key", db.session.get(AdminUser, w.ids.owner))
        db.session.commit()
        key_id = key.id
    return (w.admin.submit(f"/admin/api-keys/{key_id}/revoke", {}), f"api_key:{key_id}")


HOOK = "https://93.184.215.14/hook"  # a public address: resolved without DNS


def _endpoint(w) -> int:
    from widget_server.webhooks.models import WebhookEndpoint

    with w.app.app_context():
        endpoint = WebhookEndpoint(merchant_id=w.p.merchant_id, url=HOOK, description="",
                                   event_types=["invoice.issued"], secret="whsec_" + "B" * 32)
        db.session.add(endpoint)
        db.session.commit()
        return endpoint.id


def _endpoint_action(w, action):
    endpoint_id = _endpoint(w)
    return (w.admin.submit(f"/admin/webhooks/{endpoint_id}/{action}", {},
                           form_url=f"/admin/webhooks/{endpoint_id}"),
            f"webhook_endpoint:{endpoint_id}")


def _endpoint_change(w):
    endpoint_id = _endpoint(w)
    return (w.admin.submit(f"/admin/webhooks/{endpoint_id}", {
        "url": HOOK, "event_types": ["invoice.issued", "order.created"], "enabled": "y"}),
        f"webhook_endpoint:{endpoint_id}")


JANE_DETAILS = {"first_name": "Jane", "last_name": "Doe",
                "primary_email": "jane@example.test\nap@example.test", "phone": "+1 555 0100"}

# Every audited action, done through the admin as an admin does it: (request, subject). The
# test below fails for an action in `audit.ACTIONS` that is missing here.
CASES = {
    "settings.changed": lambda w: (w.admin.submit("/admin/configuration/security", {
        "lockout_threshold": "7", "lockout_minutes": "15", "password_min_length": "10",
        "password_require_letter": "y", "password_require_digit": "y"}), "settings:security"),
    "profile.created": lambda w: (w.admin.submit("/admin/profiles/new", {
        "name": "Retail", "slug": "retail"}), None),
    "profile.changed": lambda w: (w.admin.submit(f"/admin/profiles/{w.p.profile_id}", {
        "name": "Standard plus", "slug": "standard"}), f"profile:{w.p.profile_id}"),
    "profile.tab_changed": lambda w: (w.admin.submit(
        f"/admin/profiles/{w.p.profile_id}/tabs/order", {"allow_new_order": "y",
                                                         "cancel_mode": "period_end"}),
        f"profile:{w.p.profile_id}"),
    "profile.deleted": lambda w: (w.admin.submit(f"/admin/profiles/{w.ids.spare}/delete", {}),
                                  f"profile:{w.ids.spare}"),
    "customer.created": lambda w: (w.admin.submit("/admin/customers/new", {
        "first_name": "Łukasz", "last_name": "Łukasiewicz",
        "primary_email": "lukasz@example.test"}), None),
    "customer.changed": lambda w: (w.admin.submit(f"/admin/customers/{w.jane}", {
        **JANE_DETAILS, f"cf_{w.ids.region}": "North"}), f"customer:{w.jane}"),
    "customer.archived": lambda w: (w.admin.submit(
        f"/admin/customers/{w.jane}/delete", {}, form_url=f"/admin/customers/{w.jane}"),
        f"customer:{w.jane}"),
    "customer.deleted": lambda w: (w.admin.submit(
        f"/admin/customers/{w.ids.max}/delete", {}, form_url=f"/admin/customers/{w.ids.max}"),
        f"customer:{w.ids.max}"),
    "customer.merged": lambda w: (w.admin.submit(
        f"/admin/customers/{w.jane}/merge/{w.ids.dup}",
        {"survivor": str(w.jane), "login_from": str(w.jane)}), f"customer:{w.jane}"),
    "credentials.invitation_sent": lambda w: (w.admin.submit("/admin/invitations", {
        "id": [str(w.ids.max)], "send": "1", "subject": "Your portal",
        "body": "Hello {{ contact_name }}: {{ portal_link }}"},
        form_url=f"/admin/invitations?id={w.ids.max}"), f"customer:{w.ids.max}"),
    "credentials.create_email": lambda w: (_portal(w, "send-create", customer_id=w.ids.max),
                                           f"customer:{w.ids.max}"),
    "credentials.reset_email": lambda w: (_portal(w, "send-reset"), f"customer:{w.jane}"),
    "credentials.temporary_password": lambda w: (_portal(w, "temporary-password"),
                                                 f"customer:{w.jane}"),
    "credentials.username_changed": lambda w: (_portal(w, "update-username",
                                                       {"username": "jane.new"}),
                                               f"customer:{w.jane}"),
    "credentials.username_deleted": lambda w: (_portal(w, "delete-username"),
                                               f"customer:{w.jane}"),
    "credentials.unlocked": lambda w: (_portal(w, "unlock"), f"customer:{w.jane}"),
    "email_template.changed": lambda w: (w.admin.submit(
        "/admin/emails/templates/invoice_issued",
        {"subject": "Bill {{ invoice_number }}", "body": "Dear {{ contact_name }}"}),
        "email_template:invoice_issued"),
    "admin_user.invited": lambda w: (w.admin.submit("/admin/users", {
        "email": "new@acme.test", "name": "New", "role": "staff",
        "password": INITIAL_PASSWORD}), None),
    "admin_user.changed": lambda w: (w.admin.submit(f"/admin/users/{w.ids.sam}", {
        f"u{w.ids.sam}-role": "admin", f"u{w.ids.sam}-active": "1"}, form_url="/admin/users"),
        f"admin_user:{w.ids.sam}"),
    "custom_field.created": lambda w: (w.admin.submit("/admin/custom-fields", {
        "name": "Seats", "field_type": "number"}), None),
    "custom_field.changed": lambda w: (w.admin.submit(f"/admin/custom-fields/{w.ids.region}", {
        "name": "Area", "field_type": "text", "required": "y"}),
        f"custom_field:{w.ids.region}"),
    "custom_field.moved": lambda w: (w.admin.submit(f"/admin/custom-fields/{w.ids.tier}/up", {},
                                                    form_url="/admin/custom-fields"),
                                     f"custom_field:{w.ids.tier}"),
    "custom_field.deleted": lambda w: (w.admin.submit(
        f"/admin/custom-fields/{w.ids.region}/delete", {}), f"custom_field:{w.ids.region}"),
    # money going back (#24 item 3): what happened, not a diff of settings
    "payment.refunded": _refund,
    "credit_note.issued": _credit_note,
    "invoice.voided": _void,
    "payment.recorded": _offline_payment,
    "api_key.created": lambda w: (w.admin.submit("/admin/api-keys", {
        "name": "Shop backend", "once": "o1"}), None),
    "api_key.revoked": lambda w: _revoke_key(w),
    # webhook endpoints (#25): the secret is shown on the answer itself (200, not a redirect)
    "webhook_endpoint.created": lambda w: (w.admin.submit("/admin/webhooks", {
        "url": HOOK, "event_types": ["invoice.issued"]}), None),
    "webhook_endpoint.changed": _endpoint_change,
    "webhook_endpoint.secret_rotated": lambda w: _endpoint_action(w, "rotate"),
    "webhook_endpoint.deleted": lambda w: _endpoint_action(w, "delete"),
}
# answered with the page showing a secret once (200), not a redirect
SHOWN_ONCE = ("api_key.created", "webhook_endpoint.created", "webhook_endpoint.secret_rotated")
MONEY = ("payment.", "credit_note.", "invoice.", "api_key.")


def test_every_audited_action_has_a_case():
    assert set(CASES) == set(audit.ACTIONS)


def _table(response) -> str:
    """The entries table of an Audit log page (the filter's list names every action)."""
    html = response.get_data(as_text=True).replace("&#39;", "'")
    return html.partition('<table id="audit-entries"')[2] or html.partition("<h1>")[2].split(
        "</form>", 1)[-1]


def _entries(app):
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


@pytest.mark.parametrize("action", sorted(CASES))
def test_every_audited_action_writes_its_entry(app, w, action):
    response, subject = CASES[action](w)
    # a redirect after the change; a page showing a secret once answers itself
    assert response.status_code == (200 if action in SHOWN_ONCE else 302), \
        response.get_data(as_text=True)[:2000]
    entries = [e for e in _entries(app) if e.action == action]
    assert len(entries) == 1, [(e.action, e.subject) for e in _entries(app)]
    [entry] = entries
    if subject is not None:
        assert entry.subject == subject
    assert entry.merchant_id == w.p.merchant_id
    assert entry.admin_user_id == w.ids.owner
    assert entry.detail["admin_email"] == "owner@acme.test"
    assert entry.ip_address == "127.0.0.1"  # from where
    assert utcnow() - entry.created_at < timedelta(minutes=1)
    if action != "customer.merged":
        assert entry.detail.get("label")  # the subject's name as it was
    stateful = not action.startswith(("credentials.create", "credentials.reset",
                                      "credentials.invitation",
                                      "credentials.temp", "credentials.unlock",
                                      "customer.merged", *MONEY))
    assert bool(entry.changes) == stateful, entry.detail
    # the log page shows it, in words
    assert audit.ACTIONS[action] in _table(w.admin.client.get("/admin/audit-log"))


def test_before_and_after_values_are_recorded(app, w):
    CASES["settings.changed"](w)
    CASES["customer.changed"](w)
    CASES["admin_user.changed"](w)
    CASES["custom_field.moved"](w)
    by_action = {e.action: e for e in _entries(app)}
    assert by_action["settings.changed"].changes == {
        "lockout_threshold": {"before": 5, "after": 7}}
    assert by_action["customer.changed"].changes == {
        "phone": {"before": "", "after": "+1 555 0100"},
        "custom field “Region”": {"before": None, "after": "North"}}
    assert by_action["admin_user.changed"].changes == {"role": {"before": "staff",
                                                                "after": "admin"}}
    assert by_action["custom_field.moved"].changes == {
        "order": {"before": ["Region", "Tier"], "after": ["Tier", "Region"]}}
    # a save that changes nothing writes nothing
    CASES["settings.changed"](w)
    assert [e.action for e in _entries(app)].count("settings.changed") == 1


def test_secrets_are_never_stored(app, w):
    CASES["admin_user.invited"](w)
    CASES["credentials.temporary_password"](w)
    with app.app_context():
        stored = json.dumps([e.detail for e in db.session.scalars(select(AuditEntry))])
        merchant = db.session.get(Merchant, w.p.merchant_id)
        owner = db.session.get(AdminUser, w.ids.owner)
        entry = audit.changed(owner, "settings.changed", "settings:payments",
                              {"password": "old-pass", "webhook_secret": "", "api_key": "k1",
                               "password_min_length": 10, "note": "plain"},
                              {"password": "new-pass", "webhook_secret": "whsec_abcdef123456",
                               "api_key": "k2", "password_min_length": 12,
                               "note": "pasted sk_live_abcdefgh1234 by mistake"},
                              label="Payments")
        db.session.commit()
        changes = entry.changes
        assert merchant.id == entry.merchant_id
    assert INITIAL_PASSWORD not in stored
    assert "password" not in stored.lower().replace("temporary password", "")
    assert changes["password"] == {"before": audit.MASK, "after": audit.MASK}
    assert changes["webhook_secret"] == {"before": "", "after": audit.MASK}
    assert changes["api_key"] == {"before": audit.MASK, "after": audit.MASK}
    assert changes["password_min_length"] == {"before": 10, "after": 12}  # a rule, no secret
    assert "sk_live_" not in json.dumps(changes)
    assert changes["note"]["after"].startswith("pasted ")


def test_the_service_offers_no_way_to_change_or_remove_an_entry():
    public = {name for name, member in inspect.getmembers(audit, inspect.isfunction)
              if member.__module__ == audit.__name__ and not name.startswith("_")}
    assert public == {"subject_of", "record", "diff", "changed", "for_subject", "search"}


def test_postgresql_refuses_to_change_or_delete_an_entry(app, w):
    CASES["settings.changed"](w)
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the trigger exists on PostgreSQL only")
        for statement in ("UPDATE audit_entry SET action = 'x'", "DELETE FROM audit_entry"):
            with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
                conn.execute(text(statement))
        # an admin user deleted leaves their entries, naming them by email (SET NULL)
        _make_entries(app, w.p.merchant_id, 1, admin_id=w.ids.sam)
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM admin_user WHERE id = :id"), {"id": w.ids.sam})
        assert db.session.scalar(select(AuditEntry.admin_user_id).where(
            AuditEntry.subject == "settings:s0")) is None
        # a merchant deleted takes its entries with it (the foreign key's own cascade)
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM merchant WHERE id = :id"), {"id": w.p.merchant_id})
        assert db.session.scalar(select(AuditEntry.id)) is None


def _make_entries(app, merchant_id, count, action="settings.changed", admin_id=None):
    with app.app_context():
        db.session.add_all(AuditEntry(merchant_id=merchant_id, admin_user_id=admin_id,
                                      action=action, subject=f"settings:s{n}",
                                      detail={"label": f"Section {n}", "changes": {
                                          "x": {"before": n, "after": n + 1}}})
                           for n in range(count))
        db.session.commit()


def test_the_log_page_filters(app, w):
    CASES["customer.changed"](w)
    CASES["admin_user.changed"](w)
    CASES["custom_field.moved"](w)
    get = lambda **q: w.admin.client.get("/admin/audit-log", query_string=q)  # noqa: E731

    page = _table(get(action="customer.changed"))
    assert "Customer edited" in page and "Admin user role or access changed" not in page
    page = _table(get(subject="admin_user"))
    assert "sam@acme.test" in page and "Customer edited" not in page
    page = _table(get(subject=f"customer:{w.jane}"))
    assert "Customer edited" in page and "Custom field moved" not in page
    assert "Custom field moved" in _table(get(admin=w.ids.owner))
    assert "No entries match" in get(admin=w.ids.sam).get_data(as_text=True)
    with app.app_context():
        today = db.session.get(Merchant, w.p.merchant_id).today()
    assert "Customer edited" in _table(get(**{"from": today.isoformat(),
                                              "to": today.isoformat()}))
    assert "No entries match" in get(**{"from": (today + timedelta(days=1)).isoformat()}
                                     ).get_data(as_text=True)
    assert "No entries match" in get(to=(today - timedelta(days=1)).isoformat()
                                     ).get_data(as_text=True)
    bad = get(**{"from": "31.02.2026"})
    assert bad.status_code == 400 and "Enter a date as YYYY-MM-DD." in bad.get_data(as_text=True)


def test_times_are_in_the_merchants_time_zone(app, w):
    with app.app_context():
        merchant = db.session.get(Merchant, w.p.merchant_id)
        merchant.timezone, merchant.locale = "Europe/Berlin", "de_DE"
        db.session.add(AuditEntry(merchant_id=merchant.id, action="settings.changed",
                                  subject="settings:portal", detail={"label": "Portal"},
                                  created_at=utcnow().replace(month=1, day=15, hour=23,
                                                              minute=30)))
        db.session.commit()
        year = utcnow().year
    page = w.admin.client.get("/admin/audit-log").get_data(as_text=True)
    assert f"16.01.{year} 00:30 CET" in page and "Europe/Berlin" in page
    # the date filter reads the merchant's calendar: it happened on the 16th in Berlin
    on = lambda day: _table(w.admin.client.get(  # noqa: E731
        "/admin/audit-log", query_string={"from": f"{year}-01-{day}", "to": f"{year}-01-{day}"}))
    assert "Configuration changed" in on(16) and "Configuration changed" not in on(15)


def test_pages_by_keyset_with_constant_queries(app, w, count_queries):
    _make_entries(app, w.p.merchant_id, 5)

    def count(url):
        with count_queries() as counter:
            assert w.admin.client.get(url).status_code == 200
        return counter.count

    few = count("/admin/audit-log")
    _make_entries(app, w.p.merchant_id, 120)
    first = _table(w.admin.client.get("/admin/audit-log"))
    assert first.count("Configuration changed") == 50 and "Older entries" in first
    with app.app_context():
        ids = db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id.desc())).all()
    second_url = f"/admin/audit-log?before={ids[49]}"
    assert few == count("/admin/audit-log") == count(second_url)
    second = w.admin.client.get(second_url).get_data(as_text=True)
    assert f"before={ids[99]}" in second  # the next page starts after the 100th newest


def test_only_admins_who_manage_settings_see_the_log(app, w, make_merchant):
    staff = Browserish(app.test_client())
    assert staff.login("sam@acme.test", "staff-pass-123").status_code == 302
    assert staff.client.get("/admin/audit-log").status_code == 403
    assert "Audit log" not in staff.client.get("/admin/").get_data(as_text=True)
    assert "Audit log" in w.admin.client.get("/admin/").get_data(as_text=True)
    # another merchant's entries never show
    other_id, _ = make_merchant("globex")
    _make_entries(app, other_id, 3, action="profile.deleted")
    assert "Profile deleted" not in _table(w.admin.client.get("/admin/audit-log"))


def test_the_demo_log_opens_with_the_custom_fields_once(app, ctx):
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
    entries = db.session.scalars(select(AuditEntry)).all()
    assert sorted(e.detail["label"] for e in entries) == ["Account manager",
                                                          "Preferred contact"]
    assert {e.action for e in entries} == {"custom_field.created"}
    assert all(e.detail["admin_email"] == "admin@demo.test" for e in entries)
