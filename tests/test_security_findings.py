"""Issue #19 security findings 8–12: each test failed before its fix."""
import re

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from, widget_login
from widget_server.core.domain import DomainError
from widget_server.core.extensions import db
from widget_server.customers import services as customer_services
from widget_server.customers.models import Customer
from widget_server.tenancy.models import Merchant

# --- 12: the admin session is renewed at every sign-in (T-2, B-1) --------------------------

def _admin_csrf_secret(client):
    with client.session_transaction("/admin/login") as session:
        return session.get("csrf_token")


def test_admin_sign_in_starts_a_new_session(client, browser_like, make_merchant):
    """#19-12: the CSRF secret (and anything else in the cookie session) planted before sign-in
    must not survive it, as on the customer face (session fixation)."""
    _, email = make_merchant("acme")
    page = client.get("/admin/login").get_data(as_text=True)
    before = _admin_csrf_secret(client)
    assert before
    with client.session_transaction("/admin/login") as session:
        session["planted"] = "by-an-attacker"
    response = client.post("/admin/login", data={"csrf_token": csrf_from(page), "email": email,
                                                 "password": "owner-pass-123"})
    assert response.status_code == 302
    client.get("/admin/")  # a page with a form: a CSRF secret again
    with client.session_transaction("/admin/") as session:
        assert "planted" not in session
        assert session.get("csrf_token") != before
        assert session.get("_user_id")  # and signed in
    # the pre-login token is worthless after sign-in
    stale = client.post("/admin/logout", data={"csrf_token": csrf_from(page)})
    assert stale.status_code == 400
    assert client.get("/admin/").status_code == 200


# --- 10: router-level answers under /w/ and /p/ carry the widget's headers (E-3, B-1) -------

def _set_origins(app, merchant_id, origins):
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        merchant.config = {**(merchant.config or {}), "embedding": {"allowed_origins": origins}}
        db.session.commit()


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/w/acme/standard/no-such-page", 404),
    ("GET", "/p/acme/no-such-page", 404),
    ("GET", "/p/acme/invoices/99999999999", 404),  # the id converter refuses it: no route
    ("POST", "/w/acme/standard/cookie-check", 405),
    ("DELETE", "/p/acme/login", 405),
])
def test_router_level_errors_under_the_widget_carry_its_headers(app, portal, method, path,
                                                                 status):
    """#19-10: no widget route matched, so the face's after_request never ran: the answer had
    no CSP and no framing control, and any site could frame it."""
    p = portal()
    _set_origins(app, p.merchant_id, ["https://shop.example.com"])
    response = app.test_client().open(path, method=method)
    assert response.status_code == status
    csp = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'self' https://shop.example.com;" in csp
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/w/nobody/standard/x", "/p/nobody/x/y", "/w/", "/p"])
def test_router_level_errors_of_unknown_merchants_frame_only_on_this_site(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "frame-ancestors 'self';" in response.headers.get("Content-Security-Policy", "")


# --- 8: at least one valid Primary Email address, on every writer (C-2, C-4) ----------------

NO_ADDRESS = ["   ", ",", " ; , ", "\n\n", ",\n;"]


def _emails(app, customer_id):
    with app.app_context():
        return db.session.get(Customer, customer_id).primary_emails


@pytest.mark.parametrize("blank", NO_ADDRESS)
def test_the_customer_cannot_remove_every_primary_email(app, portal, blank):
    """#19-8: `InputRequired` passes "  " and the list parser returns no address, so the
    profile form emptied the list: no receipts, no password reset."""
    p = portal()
    client = app.test_client()
    widget_login(client, p.base, p.username, p.password)
    page = client.get(f"{p.base}/profile").get_data(as_text=True)
    response = client.post(f"{p.base}/profile", data={
        "csrf_token": csrf_from(page), "first_name": "Jane", "last_name": "Doe",
        "primary_email": blank})
    assert response.status_code == 400
    assert "Enter at least one email address." in response.get_data(as_text=True)
    assert _emails(app, p.customer_id) == p.emails


@pytest.mark.parametrize("blank", NO_ADDRESS)
def test_the_admin_cannot_save_a_customer_without_primary_email(app, portal, browser_like,
                                                                blank):
    p = portal()
    browser_like.login("owner@acme.test", "owner-pass-123")
    url = f"/admin/customers/{p.customer_id}"
    response = browser_like.submit(url, {"first_name": "Jane", "last_name": "Doe",
                                         "primary_email": blank})
    assert response.status_code == 400
    assert "Enter at least one email address." in response.get_data(as_text=True)
    assert _emails(app, p.customer_id) == p.emails
    new = browser_like.submit("/admin/customers/new", {"first_name": "Ann", "last_name": "Lee",
                                                       "primary_email": blank})
    assert new.status_code == 400
    with app.app_context():
        assert db.session.query(Customer).count() == 1


@pytest.mark.parametrize("emails", [[], ["  "], [""]])
def test_save_customer_refuses_an_empty_primary_email_list(app, portal, emails):
    """The service is the rule's home: an API or import calling it is held to it too."""
    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        customer = db.session.get(Customer, p.customer_id)
        with pytest.raises(DomainError) as refused:
            customer_services.save_customer(merchant, customer, details={}, emails=emails,
                                            custom_values={})
        assert refused.value.field == "primary_email"
        with pytest.raises(DomainError):
            customer_services.save_customer(merchant, None, details={"first_name": "Ann",
                                                                     "last_name": "Lee"},
                                            emails=emails, custom_values={})
        db.session.rollback()
    assert _emails(app, p.customer_id) == p.emails


# --- 11: single-line fields refuse control characters, on forms and in services -------------

BREAKS = ["Acme\r\nBcc: victim@example.test", "Acme\nLtd", "Acme\tLtd", "Acme\u2028Ltd",
          "Acme\x85Ltd"]


@pytest.mark.parametrize("name", BREAKS)
def test_a_merchant_name_with_a_line_break_is_refused(app, owner_client, name):
    """#19-11: a merchant name with CR/LF was saved, and every email of that merchant then
    failed with a header error."""
    response = owner_client.submit("/admin/configuration", {
        "name": name, "currency": "USD", "locale": "en_US", "timezone": "UTC"})
    assert response.status_code == 400
    assert "Use a single line of text" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Merchant, owner_client.merchant_id).name == "Acme"


def _single_line_writers():
    """Every service that writes a single-line field, called as an API would call it."""
    from widget_server.customers import fields, invitations
    from widget_server.notifications import templates
    from widget_server.profiles import services as profiles
    from widget_server.tenancy import admins
    from widget_server.tenancy import services as tenancy
    from widget_server.tenancy.configuration import INVITATIONS

    def customer(m, value, **kw):
        details = {"first_name": "Ann", "last_name": "Lee", **kw}
        return customer_services.save_customer(m, None, details=details,
                                               emails=["ann@example.test"], custom_values={})

    return {
        "merchant name": lambda m, v: tenancy.update_general(
            m, name=v, currency=m.currency, locale=m.locale, timezone=m.timezone),
        "admin name": lambda m, v: admins.add_admin(m, email="new@acme.test", name=v,
                                                    role="staff", password="staff-pass-123"),
        "profile name": lambda m, v: profiles.create_profile(m, v, "second"),
        "custom field name": lambda m, v: fields.create_definition(
            m, name=v, field_type="text", required=False, choices=[]),
        "custom field choice": lambda m, v: fields.create_definition(
            m, name="Tier", field_type="choice", required=False, choices=[v]),
        "email subject": lambda m, v: templates.save_override(m, "payment_receipt", v, "Hi"),
        "invitation subject": lambda m, v: invitations.send(m, "owner@acme.test", [object()],
                                                            v, "Hello"),
        "invitation default subject": lambda m, v: INVITATIONS.clean(
            {**INVITATIONS.defaults(), "invitation_subject": v}),
        "customer company": lambda m, v: customer(m, v, company=v),
        "customer city": lambda m, v: customer(m, v, city=v),
    }


@pytest.mark.parametrize("writer", sorted(_single_line_writers()))
@pytest.mark.parametrize("value", ["Acme\r\nBcc: victim@example.test", "Acme\u2029Ltd"])
def test_services_refuse_control_characters_in_single_line_fields(app, make_merchant, writer,
                                                                   value):
    merchant_id, _ = make_merchant("acme")
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        with pytest.raises(DomainError) as refused:
            _single_line_writers()[writer](merchant, value)
        assert any("single line" in m for m in refused.value.errors.values())
        db.session.rollback()


def test_a_custom_field_value_with_a_line_break_is_refused(app, make_merchant):
    from widget_server.customers import fields

    merchant_id, _ = make_merchant("acme")
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        definition = fields.create_definition(merchant, name="Region", field_type="text",
                                              required=False, choices=[])
        with pytest.raises(DomainError):
            fields.clean_value(definition, "North\r\nSouth")
        assert fields.clean_value(definition, "  North  ") == "North"


def test_the_customer_profile_refuses_line_breaks(app, portal):
    p = portal()
    client = app.test_client()
    widget_login(client, p.base, p.username, p.password)
    page = client.get(f"{p.base}/profile").get_data(as_text=True)
    response = client.post(f"{p.base}/profile", data={
        "csrf_token": csrf_from(page), "first_name": "Jane", "last_name": "Doe",
        "primary_email": "jane@example.test", "city": "Oslo\r\nBcc: x@example.test"})
    assert response.status_code == 400
    assert "Use a single line of text" in response.get_data(as_text=True)
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        customer = db.session.get(Customer, p.customer_id)
        from widget_server.profiles.models import SelfServiceProfile

        profile = db.session.get(SelfServiceProfile, p.profile_id)
        with pytest.raises(DomainError) as refused:  # the service, as an API would call it
            customer_services.update_profile(merchant, profile, customer,
                                             details={"address_line1": "1 Main St\u2028"})
        assert "address_line1" in refused.value.errors
        assert customer.city == ""


def _all_forms():
    """Every form class of the app, the generated ones included."""
    import importlib
    import pkgutil

    from flask_wtf import FlaskForm

    import widget_server

    for module in pkgutil.walk_packages(widget_server.__path__, "widget_server."):
        importlib.import_module(module.name)
    seen, todo = [], [FlaskForm]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return seen


def test_every_single_line_field_of_every_form_is_a_single_line_field(app):
    """The refusal lives once, in the shared form plumbing: any single-line text input of the
    admin or the widget (StringField and its kinds, but text areas, passwords and hidden
    fields) must be one of its fields, including those built from declarations."""
    from wtforms import HiddenField, PasswordField, StringField, TextAreaField
    from wtforms.fields.core import UnboundField

    from widget_server.customers.forms import custom_field
    from widget_server.settings.kinds import Color, Text, Url
    from widget_server.web.form_fields import SingleLine

    multi = (TextAreaField, PasswordField, HiddenField)
    unbound = []
    for form in _all_forms():
        unbound += [(f"{form.__module__}.{form.__name__}.{name}", value)
                    for name, value in vars(form).items() if isinstance(value, UnboundField)]
    with app.app_context():
        from types import SimpleNamespace

        setting = SimpleNamespace(label="x", help="", key="x")
        unbound += [("Text", Text().make_field(setting, None)),
                    ("Url", Url().make_field(setting, None)),
                    ("Color", Color().make_field(setting, None))]
        for kind in ("text", "number", "date"):
            definition = SimpleNamespace(name="x", field_type=kind, required=False, choices=[])
            unbound += [(f"custom {kind}", custom_field(definition)),
                        (f"custom {kind} read-only", custom_field(definition, "read_only"))]
    assert len(unbound) > 40
    offenders = [name for name, field in unbound
                 if issubclass(field.field_class, StringField)
                 and not issubclass(field.field_class, multi)
                 and not issubclass(field.field_class, SingleLine)]
    assert offenders == []


def test_a_single_line_field_refuses_a_line_break_before_its_validators(app):
    from flask_wtf import FlaskForm
    from werkzeug.datastructures import MultiDict

    from widget_server.web.form_fields import TrimmedField

    class Form(FlaskForm):
        class Meta:
            csrf = False

        name = TrimmedField("Name")

    with app.test_request_context():
        for value in BREAKS:
            form = Form(formdata=MultiDict({"name": value}))
            assert not form.validate()
            assert form.name.errors == ["Use a single line of text, without line breaks or "
                                        "control characters."]
        form = Form(formdata=MultiDict({"name": "  Zoë O’Neil  "}))
        assert form.validate() and form.name.data == "Zoë O’Neil"


# --- 9: the lockout never tells which accounts exist, and is temporary by default (C-8) -----

def _security(app, merchant_id, **values):
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        merchant.config = {**(merchant.config or {}), "security": {
            "lockout_threshold": 3, "password_min_length": 10, **values}}
        db.session.commit()


def _answer(client, base, login, password="wrong-password"):
    html = widget_login(client, base, login, password).get_data(as_text=True)
    match = re.search(r'id="password-error">([^<]*)<', html)
    assert match, html[-2000:]
    return match.group(1)


@pytest.mark.parametrize("minutes", [15, 0])
@pytest.mark.parametrize("known,unknown", [("jane", "jake"),
                                           ("jane@example.test", "ghost@example.test")])
def test_unknown_logins_answer_like_known_ones_at_every_count(app, portal, known, unknown,
                                                              minutes):
    """#19-9: after the threshold an existing account answered "locked" and an unknown one
    kept answering "incorrect": five requests told anyone which accounts exist."""
    p = portal()
    _security(app, p.merchant_id, lockout_minutes=minutes)
    client = app.test_client()
    for attempt in range(6):
        assert _answer(client, p.base, known) == _answer(client, p.base, unknown), attempt
    assert "locked" in _answer(client, p.base, unknown)
    # the right password does not tell the lock apart from a wrong one either
    assert _answer(client, p.base, known, p.password) == _answer(client, p.base, unknown)


def _age_locks(app, minutes):
    from datetime import timedelta

    from widget_server.customers.models import LoginFailure

    with app.app_context():
        for model in (Customer, LoginFailure):
            for row in db.session.scalars(select(model).where(model.locked_at.is_not(None))):
                row.locked_at -= timedelta(minutes=minutes)
        db.session.commit()


def test_the_lock_is_temporary_by_default(app, portal, browser_like):
    """Five requests lock anyone's account: by default the lock runs out (the merchant's
    Lockout duration, 15 minutes), for known and unknown logins alike."""
    p = portal()
    _security(app, p.merchant_id)  # no lockout_minutes stored: the default
    client = app.test_client()
    for _ in range(3):
        _answer(client, p.base, p.username)
        _answer(client, p.base, "jake")
    assert "try again in 15 minutes" in _answer(client, p.base, p.username, p.password)
    assert "try again in 15 minutes" in _answer(client, p.base, "jake")
    browser_like.login("owner@acme.test", "owner-pass-123")
    panel = browser_like.client.get(f"/admin/customers/{p.customer_id}").get_data(as_text=True)
    assert "Locked" in panel and "after 3 failed sign-ins, until " in panel and ">Unlock<" in panel

    _age_locks(app, 14)
    assert "locked" in _answer(client, p.base, p.username, p.password)
    _age_locks(app, 2)
    panel = browser_like.client.get(f"/admin/customers/{p.customer_id}").get_data(as_text=True)
    assert "Locked" not in panel and ">Unlock<" not in panel
    # a new count starts for both: the first failure after the lock is one of three again
    assert _answer(client, p.base, p.username) == _answer(client, p.base, "jake") == \
        "Username/email or password is incorrect."
    assert widget_login(client, p.base, p.username, p.password).status_code == 302
    with app.app_context():
        customer = db.session.get(Customer, p.customer_id)
        assert customer.failed_logins == 0 and customer.locked_at is None


def test_lockout_until_an_admin_unlocks_when_the_merchant_says_so(app, portal, browser_like):
    p = portal()
    _security(app, p.merchant_id, lockout_minutes=0)
    client = app.test_client()
    for _ in range(3):
        _answer(client, p.base, p.username)
    _age_locks(app, 60 * 24 * 30)
    answer = _answer(client, p.base, p.username, p.password)
    assert answer.endswith("Please contact Acme to unlock it.")
    browser_like.login("owner@acme.test", "owner-pass-123")
    panel = browser_like.client.get(f"/admin/customers/{p.customer_id}").get_data(as_text=True)
    assert "until an admin unlocks it" in panel
    browser_like.submit(f"/admin/customers/{p.customer_id}/portal/unlock", {},
                        form_url=f"/admin/customers/{p.customer_id}")
    assert widget_login(client, p.base, p.username, p.password).status_code == 302


def test_the_lockout_duration_is_a_sign_in_security_setting(app, owner_client):
    response = owner_client.submit("/admin/configuration/security", {
        "lockout_threshold": "5", "lockout_minutes": "30", "password_min_length": "12"})
    assert response.status_code == 302
    from widget_server.tenancy.configuration import SECURITY, merchant_settings

    with app.app_context():
        merchant = db.session.get(Merchant, owner_client.merchant_id)
        assert merchant_settings(merchant, SECURITY).lockout_minutes == 30
    refused = owner_client.submit("/admin/configuration/security", {
        "lockout_threshold": "5", "lockout_minutes": "-1", "password_min_length": "12"})
    assert refused.status_code == 400


def test_unknown_logins_are_counted_per_merchant_without_storing_the_login(app, portal):
    from widget_server.customers.models import LoginFailure

    a, b = portal("acme"), portal("beta")
    _security(app, a.merchant_id)
    client = app.test_client()
    for _ in range(3):
        _answer(client, a.base, "Ghost@Example.test ")
    assert "locked" in _answer(client, a.base, "ghost@example.test")
    assert _answer(client, b.base, "ghost@example.test") == \
        "Username/email or password is incorrect."
    with app.app_context():
        rows = db.session.scalars(select(LoginFailure)).all()
        assert len(rows) == 2 and all("ghost" not in r.login_digest for r in rows)
